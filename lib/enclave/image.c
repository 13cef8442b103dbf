#include "enclave/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/file.h"

void tm_image_free(struct tm_image *image)
{
    if (!image)
        return;
    tm_layout_free(&image->layout);
    free(image->file);
    free(image->path);
    free(image);
}

void tm_image_freep(struct tm_image **image)
{
    tm_image_free(*image);
}

/* Takes ownership of file. */
static int image_from_file(uint8_t *file, size_t len, const char *name, struct tm_image **out,
                           tm_error *err)
{
    struct tm_image *image = calloc(1, sizeof(*image));
    if (!image || !(image->path = strdup(name))) {
        free(file);
        free(image);
        return tm_error_set(err, ENOMEM, "out of memory loading %s", name);
    }
    image->file = file;
    image->file_len = len;
    int ret = tm_elf_parse(&image->elf, file, len, name, err);
    if (ret == 0 && (ret = tm_layout_build(&image->layout, &image->elf, err)) < 0)
        tm_error_prefix(err, "%s", name);
    if (ret < 0) {
        tm_image_free(image);
        return ret;
    }
    *out = image;
    return 0;
}

int tm_image_load(const char *path, struct tm_image **out, tm_error *err)
{
    uint8_t *file;
    size_t len;
    int ret = tm_file_read(path, TM_IMAGE_MAX_FILE_SIZE, &file, &len, err);
    if (ret < 0)
        return ret;
    return image_from_file(file, len, path, out, err);
}

int tm_image_load_memory(const uint8_t *data, size_t len, const char *name,
                         struct tm_image **out, tm_error *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return tm_error_set(err, ENOMEM, "out of memory loading %s", name);
    memcpy(copy, data, len);
    return image_from_file(copy, len, name, out, err);
}

int tm_image_with_settings(const struct tm_image *image, const struct tm_layout_settings *settings,
                           struct tm_image **out, tm_error *err)
{
    uint8_t *copy = malloc(image->file_len);
    if (!copy)
        return tm_error_set(err, ENOMEM, "out of memory copying %s", image->path);
    memcpy(copy, image->file, image->file_len);
    memcpy(copy + image->elf.settings_file_offset, settings, sizeof(*settings));
    return image_from_file(copy, image->file_len, image->path, out, err);
}

uint64_t tm_image_elrange_for(uint64_t need)
{
    uint64_t size = 1ULL << 13;
    while (size < need)
        size <<= 1;
    return size;
}

int tm_image_with_slots_fitted(const struct tm_image *image, struct tm_layout_settings *settings,
                               struct tm_image **out, tm_error *err)
{
    settings->enclave_size = TM_LAYOUT_MAX_ENCLAVE_SIZE;
    struct tm_image *largest = NULL;
    int r = tm_image_with_settings(image, settings, &largest, err);
    if (r < 0)
        return r;
    const struct tm_enclave_regions *g = &largest->layout.regions;
    settings->enclave_size = tm_image_elrange_for(g->slots_offset + (uint64_t)g->slot_count * g->slot_size);
    tm_image_free(largest);
    return tm_image_with_settings(image, settings, out, err);
}

int tm_image_memfd(const struct tm_image *image, const char *name, tm_error *err)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "memfd_create");
    int r = tm_write_full(fd, image->file, image->file_len);
    if (r < 0) {
        int ret = tm_error_set(err, -r, "cannot write %s to a memfd: %s", name, strerror(-r));
        close(fd);
        return ret;
    }
    return fd;
}
