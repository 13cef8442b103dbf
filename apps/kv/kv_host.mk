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
# the host side's tests drive the loop with an engine of their own: no store
$(KVH_TEST_BINS): $(BUILD)/tests/test_kvh_%: $(BUILD)/obj/tests/unit/kv/test_kvh_%.o $(KVH_LIB) \
                  $(BUILD)/libteemate.a
	@mkdir -p $(@D)
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -o $@

# `teemate kv serve` (cli/cmd_kv.c) links the host side and the native store,
# so the verb is built only once apps/kv/kv.mk (the store's library) is in
# the tree; until then cli/cmd_kv.c compiles to nothing (TM_WITH_KV unset).
$(BUILD)/obj/cli/cmd_kv.o: HOST_CFLAGS += $(KVH_CFLAGS)
ifneq ($(wildcard apps/kv/kv.mk),)
$(BUILD)/obj/cli/cmd_kv.o $(BUILD)/obj/cli/main.o: HOST_CFLAGS += -DTM_WITH_KV
$(BUILD)/obj/cli/cmd_kv.o $(BUILD)/obj/cli/main.o: apps/kv/kv.mk
$(BUILD)/teemate: $(KVH_LIB) $(KV_NATIVE_LIB_PATH)
$(BUILD)/teemate: HOST_LDLIBS += $(KVH_LINK_LIBS) -lm
endif
# The data types' tables are asked for before any archive is read, so the
# archive's first definitions (t_*.o) are taken, never kv_types_weak.c's
# placeholders, which a later member of the same scan would otherwise bring.
# (kv.mk's unit tests link the same archive: the same for them.)
KVH_TYPES_FIRST := -Wl,-u,kv_list_commands -Wl,-u,kv_hash_commands -Wl,-u,kv_set_commands \
                   -Wl,-u,kv_zset_commands
$(BUILD)/teemate $(KV_TEST_BINS): HOST_LDFLAGS += $(KVH_TYPES_FIRST)
