/* libFuzzer target: enclave images are untrusted input. Loading (ELF checks,
 * note, layout) must refuse garbage cleanly; what loads must measure. */
#include <stddef.h>
#include <stdint.h>

#include "enclave/image.h"
#include "enclave/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tm_image *image = NULL;
    tm_error err = { 0 };
    if (tm_image_load_memory(data, size, "fuzz.elf", &image, &err) < 0)
        return 0;
    /* Measuring hashes a 64-byte block per added page: keep runs short. */
    if (tm_layout_added_bytes(&image->layout) <= (64ULL << 20)) {
        uint8_t mr[32];
        tm_measure_layout(&image->layout, NULL, NULL, mr, &err);
    }
    tm_image_free(image);
    return 0;
}
