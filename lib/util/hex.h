#ifndef TM_HEX_H
#define TM_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of len bytes into out (2*len+1 bytes). Returns out. */
char *tm_hex(char *out, const uint8_t *data, size_t len);

#endif
