#include "shared/attach_stats.h"

void tm_attach_print_stats(struct tm_attachment *a, double run_ms, FILE *out)
{
    const struct tm_attach_stats *s = &a->stats;
    struct tm_expand_stats x = { 0 };
    if (a->ops->expand_stats)
        a->ops->expand_stats(a->be, &x);
    fprintf(out,
            "teemate: attached to %s (%s backend), slot %u, %u TCS, attach %llu%s\n"
            "teemate:   alias         %9.3f ms  (connect %.3f, lease %.3f, map %.3f)\n",
            a->name, a->ops->name, a->slot, a->nthreads, (unsigned long long)a->attach_id,
            s->daemon_started ? ", daemon started" : "", s->connect_ms + s->request_ms + s->map_ms,
            s->connect_ms, s->request_ms, s->map_ms);
    if (s->first_entry_ms >= 0)
        fprintf(out, "teemate:   first entry   %9.3f ms\n", s->first_entry_ms);
    fprintf(out,
            "teemate:   expand        %9.3f ms  (%llu pages added)\n"
            "teemate:   run           %9.3f ms\n",
            x.ms, (unsigned long long)x.pages, run_ms);
}
