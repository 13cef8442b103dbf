# TeeMate SDK: building enclave images. Included by the top Makefile (BUILD, CC).
#
# An image = the application's objects + the trusted runtime + musl's libc.a +
# Debian's libmbedcrypto.a + libgcc.a, linked static-pie with sdk/enclave.lds.
# The runtime's core (trusted/*.c) is in every image; the parts that need
# mbedTLS (trusted/crypto/: sealing, report verification) come from an archive,
# so only images that call them carry mbedTLS. Enclave code is never built
# with sanitizers (there is no ASan runtime inside an enclave): SAN and OPT do
# not apply here, and `make SAN=1` yields the same kind of image.
#
# An application adds, e.g. for $(BUILD)/examples/hello.elf:
#
#   $(BUILD)/examples/hello.elf: $(call tm_enclave_objs,examples/hello/hello.c) $(TM_ENCLAVE_DEPS)
#   	$(TM_ENCLAVE_LINK)
#
# Sources (.c, .S) compile to $(BUILD)/enclave/<path>.o with TM_ENCLAVE_CFLAGS.

TM_MUSL_INCLUDE := /usr/include/x86_64-linux-musl
TM_MUSL_LIBC := /usr/lib/x86_64-linux-musl/libc.a
TM_GCC_INCLUDE := $(shell $(CC) -print-file-name=include)
TM_LIBGCC := $(shell $(CC) -print-libgcc-file-name)
TM_LINKER_SCRIPT := sdk/enclave.lds
TM_MBEDCRYPTO := /usr/lib/x86_64-linux-gnu/libmbedcrypto.a
# mbedTLS's headers without the rest of /usr/include (glibc's must not mix in).
TM_SDK_INCLUDE := $(BUILD)/sdk-include

# musl's headers, then the compiler's own (stddef.h, cpuid.h...), never glibc's.
# No stack protector in our code (musl's carries its own, see trusted/tm_libc.c);
# no unwind tables: -g puts CFI in .debug_frame, which is not loaded.
TM_ENCLAVE_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
    -nostdinc -isystem $(TM_MUSL_INCLUDE) -isystem $(TM_GCC_INCLUDE) \
    -fPIE -fvisibility=hidden -ffunction-sections -fdata-sections \
    -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
    -fcf-protection=none -U_FORTIFY_SOURCE \
    -Iabi -Isdk/include -I$(TM_SDK_INCLUDE) -MMD -MP

TM_ENCLAVE_LDFLAGS := -nostdlib -static-pie -Wl,-T,$(TM_LINKER_SCRIPT) \
    -Wl,--no-dynamic-linker -Wl,-z,text -Wl,-z,norelro -Wl,-z,noexecstack \
    -Wl,-z,max-page-size=4096 -Wl,-z,common-page-size=4096 \
    -Wl,--gc-sections -Wl,--build-id=none -Wl,--hash-style=gnu -Wl,--fatal-warnings

TM_TRUSTED_SRCS := $(sort $(wildcard trusted/*.c trusted/*.S))
TM_TRUSTED_OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(TM_TRUSTED_SRCS)))
TM_CRYPTO_SRCS := $(sort $(wildcard trusted/crypto/*.c))
TM_CRYPTO_OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(TM_CRYPTO_SRCS)))
TM_CRYPTO_LIB := $(BUILD)/trusted/libtm_crypto.a
TM_ENCLAVE_LIBS := $(TM_TRUSTED_OBJS) -Wl,--start-group $(TM_CRYPTO_LIB) $(TM_MBEDCRYPTO) \
    $(TM_MUSL_LIBC) $(TM_LIBGCC) -Wl,--end-group
# What every image depends on besides its own objects.
TM_ENCLAVE_DEPS := $(TM_TRUSTED_OBJS) $(TM_CRYPTO_LIB) $(TM_LINKER_SCRIPT)

# $(call tm_enclave_objs,SOURCES): the objects an image's sources compile to.
tm_enclave_objs = $(patsubst %,$(BUILD)/enclave/%.o,$(basename $(1)))

# Link recipe: the prerequisites that are not TM_ENCLAVE_DEPS are the
# application's objects. Fails if ld left any relocation the loader refuses.
define TM_ENCLAVE_LINK
@mkdir -p $(@D)
$(CC) $(TM_ENCLAVE_LDFLAGS) $(filter-out $(TM_ENCLAVE_DEPS),$^) $(TM_ENCLAVE_LIBS) -o $@.tmp
@if readelf -rW $@.tmp | grep -E '^[0-9a-f]+ +[0-9a-f]+ R_X86_64' | grep -v R_X86_64_RELATIVE; then \
    echo "$@: dynamic relocations other than R_X86_64_RELATIVE" >&2; rm -f $@.tmp; exit 1; fi
@mv $@.tmp $@
endef

.PHONY: sdk
sdk: $(TM_TRUSTED_OBJS) $(TM_CRYPTO_LIB)

$(TM_CRYPTO_LIB): $(TM_CRYPTO_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(TM_SDK_INCLUDE)/mbedtls:
	@mkdir -p $(@D)
	ln -sfn /usr/include/mbedtls $@

# The trusted runtime: also sees its own internal headers.
$(BUILD)/trusted/%.o: trusted/%.c | $(TM_SDK_INCLUDE)/mbedtls
	@mkdir -p $(@D)
	$(CC) $(TM_ENCLAVE_CFLAGS) -Itrusted -c $< -o $@

$(BUILD)/trusted/%.o: trusted/%.S
	@mkdir -p $(@D)
	$(CC) $(TM_ENCLAVE_CFLAGS) -Itrusted -c $< -o $@

# Application code inside the enclave.
$(BUILD)/enclave/%.o: %.c | $(TM_SDK_INCLUDE)/mbedtls
	@mkdir -p $(@D)
	$(CC) $(TM_ENCLAVE_CFLAGS) -c $< -o $@

$(BUILD)/enclave/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(TM_ENCLAVE_CFLAGS) -c $< -o $@

-include $(wildcard $(BUILD)/trusted/*.d $(BUILD)/trusted/crypto/*.d) $(shell find $(BUILD)/enclave -name '*.d' 2>/dev/null)
