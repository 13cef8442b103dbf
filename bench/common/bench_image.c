#include "bench_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "sgx_arch.h"
#include "util/cleanup.h"

int tm_bench_image_heap_fill(const struct tm_image *image, uint64_t size, struct tm_image **out,
                             tm_error *err)
{
    struct tm_layout_settings s = image->layout.settings;
    s.enclave_size = size;
    s.slot_count = 0;
    s.slot_size = 0;
    s.heap_size = 0;
    _cleanup_image_ struct tm_image *bare = NULL;
    int ret = tm_image_with_settings(image, &s, &bare, err);
    if (ret < 0)
        return ret;
    /* everything below the heap, plus the guard page after it */
    s.heap_size = size - bare->layout.regions.heap_offset - 2 * SGX_PAGE_SIZE;
    return tm_image_with_settings(image, &s, out, err);
}

int tm_bench_image_write(const struct tm_image *image, const char *dir, const char *name,
                         char *path, size_t path_len, tm_error *err)
{
    if ((size_t)snprintf(path, path_len, "%s/%s", dir, name) >= path_len)
        return tm_error_set(err, ENAMETOOLONG, "path %s/%s is too long", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return tm_error_sys(err, "cannot create %s", path);
    ssize_t n = write(fd, image->file, image->file_len);
    int ret = n == (ssize_t)image->file_len ? 0 : tm_error_sys(err, "cannot write %s", path);
    if (close(fd) < 0 && ret == 0)
        ret = tm_error_sys(err, "cannot write %s", path);
    return ret;
}
