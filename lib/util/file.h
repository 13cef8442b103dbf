#ifndef TM_FILE_H
#define TM_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Read a whole regular file (at most max_size bytes) into a fresh buffer. */
int tm_file_read(const char *path, size_t max_size, uint8_t **data, size_t *len, tm_error *err);
/* Open (read-only) a file that must be this user's alone: not a symbolic
 * link, a regular file of this euid, no group or other permission bits. what
 * names it in errors ("sim root key"). Returns the fd, or a negative errno
 * with err filled (-ENOENT when there is none). */
int tm_file_open_private(const char *path, const char *what, tm_error *err);
/* Write all of buf (retrying short writes and EINTR): 0 or -errno. */
int tm_write_full(int fd, const void *buf, size_t len);
/* Write a file atomically (temporary file + rename) with the given mode. */
int tm_file_write(const char *path, const void *data, size_t len, mode_t mode, tm_error *err);
/* A --pid-file: the pid in decimal, no newline (as runc writes it). */
int tm_file_write_pid(const char *path, pid_t pid, tm_error *err);

#endif
