# The key-value store's host side (apps/kv/host: settings, log, listeners,
# the epoll loop, the engines), `teemate kv serve` (cli/cmd_kv.c) and
# bench/kv. The store itself (libkv_native.a, kv.elf) is apps/kv/kv.mk's.
KVH_DIR := apps/kv/host
KVH_SRCS := $(sort $(wildcard $(KVH_DIR)/*.c))
KVH_LIB := $(BUILD)/apps/kv/libkv_host.a
KV_NATIVE_LIB_PATH := $(BUILD)/apps/kv/libkv_native.a
KVH_CFLAGS := -Iapps/kv -Iapps/kv/enclave -I$(KVH_DIR)
KVH_TEST_SRCS := $(sort $(wildcard tests/unit/kv/test_kvh_*.c))
KVH_TEST_BINS := $(KVH_TEST_SRCS:tests/unit/kv/%.c=$(BUILD)/tests/%)

.PHONY: kv-host
all: kv-host
kv-host: $(KVH_LIB) $(KVH_TEST_BINS)

$(BUILD)/obj/$(KVH_DIR)/%.o $(BUILD)/obj/tests/unit/kv/test_kvh_%.o: HOST_CFLAGS += $(KVH_CFLAGS)

$(KVH_LIB): $(KVH_SRCS:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

KVH_LINK_LIBS := -Wl,--start-group $(KVH_LIB) $(KV_NATIVE_LIB_PATH) $(BUILD)/libteemate.a -Wl,--end-group
# the host side's tests drive the loop with an engine of their own (the
# native store comes in only for the file calls' registration)
$(KVH_TEST_BINS): $(BUILD)/tests/test_kvh_%: $(BUILD)/obj/tests/unit/kv/test_kvh_%.o $(KVH_LIB) \
                  $(KV_NATIVE_LIB_PATH) $(BUILD)/libteemate.a
	@mkdir -p $(@D)
	$(CC) $(HOST_LDFLAGS) $< $(KVH_LINK_LIBS) $(HOST_LDLIBS) -lmbedcrypto -lm -o $@

# `teemate kv serve`, `export`, `import` (cli/cmd_kv*.c) link the host side and the native store.
$(BUILD)/obj/cli/cmd_kv.o $(BUILD)/obj/cli/cmd_kv_%.o: HOST_CFLAGS += $(KVH_CFLAGS)
$(BUILD)/teemate: $(KVH_LIB) $(KV_NATIVE_LIB_PATH)
$(BUILD)/teemate: HOST_LDLIBS += $(KVH_LINK_LIBS) -lmbedcrypto -lm
