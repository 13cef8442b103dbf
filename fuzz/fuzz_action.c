/* libFuzzer target: /init and /run bodies come from whoever reaches the
 * action container's port; parsing must refuse garbage with a status and
 * a message, and hand back only what its promises say: a NUL-terminated
 * script of code_len bytes without a NUL in it, an identifier for main,
 * params that are a JSON object, env a JSON object of strings. The first
 * byte picks the parser (the rest is the body), so one corpus covers both. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fn_serve_proto.h"

static void check_env(const char *text)
{
    if (!text)
        return;
    json_t *o = json_loads(text, 0, NULL);
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        abort();
    json_object_foreach(o, k, v)
        if (!json_is_string(v))
            abort();
    json_decref(o);
}

static void check_status(int status, const char *error)
{
    if (status && (!error || (status != 400 && status != 403 && status != 413 && status != 500 &&
                              status != 502)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    const char *error = NULL;
    if (data[0] & 1) {
        struct fn_action_init init;
        int st = fn_action_init_parse(body, len, &init, &error);
        check_status(st, error);
        if (st == 0) {
            char alias[128];
            if (!init.code || init.code[init.code_len] || memchr(init.code, '\0', init.code_len) ||
                fn_action_main_alias(init.main, alias, sizeof alias) < 0)
                abort();
            check_env(init.env);
            fn_action_init_free(&init);
        } else if (init.code || init.main || init.env)
            abort();   /* a refusal leaves nothing behind */
    } else {
        struct fn_action_run run;
        int st = fn_action_run_parse(body, len, &run, &error);
        check_status(st, error);
        if (st == 0) {
            json_t *p = json_loads(run.params, 0, NULL);
            if (!json_is_object(p) || run.deadline_ms < 0)
                abort();
            json_decref(p);
            check_env(run.env);
            fn_action_run_free(&run);
        } else if (run.params || run.env)
            abort();
    }
    return 0;
}
