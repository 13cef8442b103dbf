/* Durations as Go's time.ParseDuration writes them ("500ms", "1.5s", "1h2m"),
 * the syntax runc's --interval takes. */
#ifndef TM_DURATION_H
#define TM_DURATION_H

#include <stdint.h>

/* text into *ns: an optional sign, then one or more DECIMAL[.FRACTION]UNIT
 * with UNIT one of ns us µs ms s m h; a bare "0" is zero. -EINVAL when it is
 * not a duration, -ERANGE past ±2^63-1 ns. */
int tm_duration_parse(const char *text, int64_t *ns);

#endif
