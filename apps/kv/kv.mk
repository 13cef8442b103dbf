# The key-value store (issue 12). The enclave side (apps/kv/enclave: core
# kv_*.c and data types t_*.c) builds twice: into the enclave image
# kv.elf with the SDK, and natively into libkv_native.a (unit tests, the fuzz
# target, the host's --no-enclave engine). Only the platform file differs.
# The host side has its own rules in apps/kv/kv_host.mk. Sealing (kv_sealed.c)
# uses mbedTLS both ways: libmbedcrypto.a inside, -lmbedcrypto natively.
KV_DIR := apps/kv
KV_TYPE_SRCS := $(sort $(wildcard $(KV_DIR)/enclave/t_*.c))
# kv_strawman.c is the enclave's only (the attested channel of a strawman fork).
KV_CORE_SRCS := $(filter-out %/kv_platform_native.c %/kv_platform_enclave.c %/kv_image.c %/kv_strawman.c,$(sort $(wildcard $(KV_DIR)/enclave/kv_*.c)))
KV_SRCS := $(KV_TYPE_SRCS) $(KV_CORE_SRCS)
KV_NATIVE_SRCS := $(KV_SRCS) $(KV_DIR)/enclave/kv_platform_native.c
KV_ENCLAVE_SRCS := $(KV_SRCS) $(KV_DIR)/enclave/kv_platform_enclave.c $(KV_DIR)/enclave/kv_image.c \
                   $(KV_DIR)/enclave/kv_strawman.c
KV_IMAGE := $(BUILD)/apps/kv/kv.elf
KV_NATIVE_LIB := $(BUILD)/apps/kv/libkv_native.a
KV_TEST_SRCS := $(sort $(wildcard tests/unit/kv/test_kv_*.c))
KV_TEST_BINS := $(KV_TEST_SRCS:tests/unit/kv/%.c=$(BUILD)/tests/%)
KV_CFLAGS := -I$(KV_DIR) -I$(KV_DIR)/enclave

.PHONY: kv
all: kv
kv: $(KV_IMAGE) $(KV_NATIVE_LIB) $(KV_TEST_BINS)

# Inside.
$(BUILD)/enclave/$(KV_DIR)/%.o: TM_ENCLAVE_CFLAGS += $(KV_CFLAGS)
$(KV_IMAGE): $(call tm_enclave_objs,$(KV_ENCLAVE_SRCS)) $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)

# Natively.
$(BUILD)/obj/$(KV_DIR)/%.o: HOST_CFLAGS += $(KV_CFLAGS)
$(BUILD)/obj/tests/unit/kv/%.o: HOST_CFLAGS += $(KV_CFLAGS)
$(KV_NATIVE_LIB): $(KV_NATIVE_SRCS:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/test_kv_%: $(BUILD)/obj/tests/unit/kv/test_kv_%.o $(KV_NATIVE_LIB)
	@mkdir -p $(@D)
	$(CC) $(HOST_LDFLAGS) $^ -lmbedcrypto -lm -o $@

# fuzz/fuzz_resp.c: RESP parsing and dispatch, natively.
build-fuzz/fuzz_resp: FUZZ_EXTRA_SRCS := $(KV_NATIVE_SRCS)
build-fuzz/fuzz_resp: FUZZ_CFLAGS += $(KV_CFLAGS) -lmbedcrypto -lm
build-fuzz/fuzz_resp: $(KV_NATIVE_SRCS) $(wildcard $(KV_DIR)/*.h $(KV_DIR)/enclave/*.h)

# fuzz/fuzz_sealed.c: the sealed-file reader and writer, natively (test key).
build-fuzz/fuzz_sealed: FUZZ_EXTRA_SRCS := $(KV_NATIVE_SRCS)
build-fuzz/fuzz_sealed: FUZZ_CFLAGS += $(KV_CFLAGS) -lmbedcrypto -lm
build-fuzz/fuzz_sealed: $(KV_NATIVE_SRCS) $(wildcard $(KV_DIR)/*.h $(KV_DIR)/enclave/*.h)

include $(KV_DIR)/kv_host.mk

# kv_rdb_tool: RDB dump/write natively, for tests/cli/test_kv_rdb_vs_redis.sh.
KV_RDB_TOOL := $(BUILD)/tests/kv_rdb_tool
kv: $(KV_RDB_TOOL)
$(KV_RDB_TOOL): $(BUILD)/obj/tests/unit/kv/kv_rdb_tool.o $(KV_NATIVE_LIB)
	@mkdir -p $(@D)
	$(CC) $(HOST_LDFLAGS) $^ -lmbedcrypto -lm -o $@

# fuzz/fuzz_rdb.c: the RDB loader (and the writer on what it loads), natively.
build-fuzz/fuzz_rdb: FUZZ_EXTRA_SRCS := $(KV_NATIVE_SRCS)
build-fuzz/fuzz_rdb: FUZZ_CFLAGS += $(KV_CFLAGS) -lmbedcrypto -lm
build-fuzz/fuzz_rdb: $(KV_NATIVE_SRCS) $(wildcard $(KV_DIR)/*.h $(KV_DIR)/enclave/*.h)
