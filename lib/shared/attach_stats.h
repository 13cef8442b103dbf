/* Where an attached run's time went, as `teemate attach --stats` and
 * `teemate run --enclave --stats` print it. */
#ifndef TM_SHARED_ATTACH_STATS_H
#define TM_SHARED_ATTACH_STATS_H

#include <stdio.h>

#include "shared/attach.h"

/* alias (connect, lease, map), first entry (if measured), expand (pages
 * added), run. */
void tm_attach_print_stats(struct tm_attachment *a, double run_ms, FILE *out);

#endif
