/* Sizes as people write them on command lines and in annotations. */
#ifndef TM_SIZE_H
#define TM_SIZE_H

#include <stdint.h>

/* "1048576", "512k", "64m", "1g", "64MiB", "2GB" (K/M/G/T are powers of
 * 1024, with or without "i" and "B"). 0 on success, -EINVAL for bad text,
 * -ERANGE above max. */
int tm_parse_size(const char *text, uint64_t max, uint64_t *out);

#endif
