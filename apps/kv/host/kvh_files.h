/* The host's end of the persistence ecalls' files (kv_abi.h:
 * KV_OCALL_FILE_READ / KV_OCALL_FILE_WRITE). Between kvh_files_begin and
 * kvh_files_end this process's ecalls that name no ocall service of their
 * own read in_fd and write out_fd (the process-wide hook,
 * tm_ecall_register_app_ocalls), and so does the native store
 * (kv_platform_set_files). One set of files at a time per process. */
#ifndef KVH_FILES_H
#define KVH_FILES_H

#include <stddef.h>
#include <stdint.h>

/* -1: none (the ocall gets -EBADF). */
void kvh_files_begin(int in_fd, int out_fd);
void kvh_files_end(void);
/* The files alone, for a process whose ocall service is its own and
 * forwards these two calls to kvh_files_ocall (kvh_persist.c); -1, -1: none. */
void kvh_files_set(int in_fd, int out_fd);

struct kvh_files_stats {
    uint64_t read, written;   /* bytes since kvh_files_begin */
    int write_error;          /* the first failed write's -errno, or 0 */
    int read_error;
};
void kvh_files_stats(struct kvh_files_stats *st);

/* The two services, also for a call that names its ocall service
 * (struct tm_ecall_call.app_ocall). */
long kvh_files_read(void *p, size_t n);
int kvh_files_write(const void *p, size_t n);
int64_t kvh_files_ocall(void *ctx, uint32_t number, const void *in, size_t in_len, void *out,
                        size_t out_cap, size_t *out_len);

#endif
