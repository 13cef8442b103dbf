/* bench/platform: closed-loop clients invoking actions through `teemate
 * gateway`. The parts share these: the functions, modes and settings, the
 * bench's own daemon and gateway, a keep-alive HTTP connection, and one
 * configuration's figures. */
#ifndef PFB_H
#define PFB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

#define PFB_MAX_CLIENTS 64
#define PFB_MAX_COUNTS 8

enum pfb_mode { PFB_NATIVE, PFB_STRAWMAN, PFB_TEEMATE, PFB_MODES };
extern const char *const pfb_mode_names[PFB_MODES];
/* cold: annotation teemate-reuse false, every invocation a new container;
 * warm: the gateway's reuse (its default) */
enum pfb_setting { PFB_COLD, PFB_WARM, PFB_SETTINGS };
extern const char *const pfb_setting_names[PFB_SETTINGS];

/* empty: the gateway's overhead probe; crypto-md5: a real workload. */
#define PFB_FUNCTIONS 2
struct pfb_function {
    const char *name;
    const char *js;            /* apps/functions/js/NAME.js, or NULL: code below */
    const char *code;
};
extern const struct pfb_function pfb_functions[PFB_FUNCTIONS];

/* Set by SIGINT / SIGTERM: clients stop issuing, the run ends, all is stopped. */
extern volatile sig_atomic_t pfb_interrupted;

/* The bench's world (pfb_setup.c). */
struct pfb_ctx {
    char teemate[4096];        /* absolute */
    char js_dir[4096];
    char tmp[256];             /* state dir, socket, OCI root, logs */
    bool tmp_tmpfs;
    char socket[320], oci[320], state[320];
    char auth[512];            /* "Basic base64(key)" */
    int port;
    pid_t daemon_pid, gw_pid;
    unsigned workers;          /* the gateway's --workers */
    unsigned timeout_s;        /* a request's limit on the client's side */
};
int pfb_setup(struct pfb_ctx *c, const char *teemate, tm_error *err);
/* Stop the gateway (its containers go with it), then the daemon; remove tmp. */
void pfb_teardown(struct pfb_ctx *c);
/* The action of a function in a mode and setting: "NAME-MODE-SETTING". */
void pfb_action_name(unsigned fi, enum pfb_mode m, enum pfb_setting s, char buf[96]);
/* PUT the action (overwrite): 0, or -1 with the gateway's answer in err. */
int pfb_action_create(struct pfb_ctx *c, unsigned fi, enum pfb_mode m, enum pfb_setting s, tm_error *err);
/* EPC pages of one strawman instance of an action: a probe cold invocation's
 * record (teemate-coldStart.epc_pages); 0 if it gave none. */
unsigned long long pfb_strawman_epc(struct pfb_ctx *c, unsigned fi);

/* A keep-alive HTTP/1.1 connection to the gateway (pfb_http.c). */
struct pfb_conn {
    int fd;
    int port;
    char *buf;                 /* the response read so far */
    size_t have, cap;
};
void pfb_conn_init(struct pfb_conn *cn, int port);
void pfb_conn_close(struct pfb_conn *cn);
/* One request; reconnects if the connection was closed. 0 with *status
 * (body, if wanted: malloc'ed, ended, *blen bytes); -ETIMEDOUT past
 * timeout_s; another -errno when the connection broke. */
int pfb_http(struct pfb_conn *cn, const char *method, const char *path, const char *auth,
             const char *body, size_t len, double timeout_s, int *status, char **rbody, size_t *blen);

/* One configuration's figures (pfb_load.c). */
enum pfb_err { PFB_E_TIMEOUT, PFB_E_CONN, PFB_E_202, PFB_E_429, PFB_E_502, PFB_E_OTHER, PFB_ERRS };
extern const char *const pfb_err_names[PFB_ERRS];
struct pfb_result {
    bool run;
    unsigned clients;
    double elapsed_s;          /* first measured request's start to the last one's end */
    unsigned long ok, errors, err[PFB_ERRS];
    double rps, p50_ms, p99_ms;    /* p50/p99 of the ok requests; NAN without any */
    bool have_epc;
    unsigned long long epc_peak;   /* enclave pages, most seen */
    unsigned long long host_peak;  /* bytes of RSS of the gateway and all under it, most seen */
    unsigned long long daemon_peak;    /* bytes of teemated's RSS, most seen */
    unsigned containers_peak;
};
struct pfb_load {
    const char *action;
    enum pfb_mode mode;
    unsigned clients;
    double warmup_s, duration_s;
    bool first_untimed;        /* warm: each client's first invocation not counted */
    unsigned long long strawman_epc;   /* pages of one strawman instance */
};
void pfb_load_run(struct pfb_ctx *c, const struct pfb_load *l, struct pfb_result *out);

/* Memory samples (pfb_memory.c). */
struct pfb_memory {
    unsigned long long epc;    /* pages */
    bool have_epc;
    unsigned long long host;   /* bytes: the gateway and all under it */
    unsigned long long daemon; /* bytes: teemated (where the shared enclaves live) */
    unsigned containers;
};
void pfb_memory_sample(struct pfb_ctx *c, const char *action, enum pfb_mode m,
                       unsigned long long strawman_epc, struct pfb_memory *out);
/* Containers in the bench's OCI root. */
unsigned pfb_containers(const struct pfb_ctx *c);

/* Everything a run measured (pfb_report.c). */
struct pfb_results {
    bool fn_on[PFB_FUNCTIONS], mode_on[PFB_MODES], setting_on[PFB_SETTINGS];
    unsigned ncounts, counts[PFB_MAX_COUNTS];
    double duration_s, warmup_s;
    unsigned workers, timeout_s;
    bool tmp_tmpfs;
    char tmp_dir[64];          /* where the state lived ("/dev/shm"), for the report */
    double load_before[3], load_after[3];
    bool interrupted;
    struct pfb_result r[PFB_FUNCTIONS][PFB_MODES][PFB_SETTINGS][PFB_MAX_COUNTS];
    unsigned long long strawman_epc[PFB_FUNCTIONS];
    char command[512];
};
int pfb_report(const struct pfb_results *res, const char *dir, tm_error *err);

#endif
