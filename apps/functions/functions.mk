# The functions application (issue 10): Duktape + our JS runtime, in an
# enclave image (enclave/, with the SDK) and natively (the same sources on the
# host), plus the host side (host/: services, ocall dispatch, launchers).
# Duktape's source comes from Debian's duktape-dev, compiled in place.
FN_DIR := apps/functions
FN_DUKTAPE := /usr/share/duktape
FN_RUNTIME_SRCS := $(FN_DIR)/enclave/fn_duktape.c $(FN_DIR)/enclave/fn_engine.c \
    $(FN_DIR)/enclave/fn_code.c $(FN_DIR)/enclave/fn_instance.c $(FN_DIR)/enclave/fn_bindings.c \
    $(FN_DIR)/enclave/fn_json.c
FN_HOST_SRCS := $(sort $(wildcard $(FN_DIR)/host/*.c) $(wildcard $(FN_DIR)/gateway/*.c))
FN_IMAGE := $(BUILD)/apps/functions/fn.elf
FN_NATIVE := $(BUILD)/apps/functions/fn-native
FN_HOST_LIB := $(BUILD)/apps/functions/libfn_host.a
FN_NATIVE_LIB := $(BUILD)/apps/functions/libfn_native.a
FN_TEST_SRCS := $(sort $(wildcard tests/unit/fn/test_fn_*.c))
FN_TEST_BINS := $(FN_TEST_SRCS:tests/unit/fn/%.c=$(BUILD)/tests/%)

.PHONY: functions
all: functions
functions: $(FN_IMAGE) $(FN_NATIVE) $(FN_TEST_BINS)

# Inside: the runtime + the enclave platform + the image's ecalls.
$(BUILD)/enclave/$(FN_DIR)/%.o: TM_ENCLAVE_CFLAGS += -I$(FN_DIR) -I$(FN_DIR)/enclave -I$(FN_DUKTAPE)
$(BUILD)/enclave/$(FN_DIR)/enclave/fn_duktape.o: TM_ENCLAVE_CFLAGS += -w
$(FN_IMAGE): $(call tm_enclave_objs,$(FN_RUNTIME_SRCS) $(FN_DIR)/enclave/fn_platform_enclave.c \
               $(FN_DIR)/enclave/fn_sealed.c $(FN_DIR)/enclave/fn_image.c) $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)

# Natively: the same runtime sources, compiled for the host.
FN_HOST_CFLAGS := -I$(FN_DIR) -I$(FN_DIR)/enclave -I$(FN_DIR)/host -I$(FN_DIR)/gateway -I$(FN_DUKTAPE)
$(BUILD)/obj/$(FN_DIR)/%.o: HOST_CFLAGS += $(FN_HOST_CFLAGS)
$(BUILD)/obj/$(FN_DIR)/enclave/fn_duktape.o: HOST_CFLAGS += -w
$(BUILD)/obj/tests/unit/fn/%.o: HOST_CFLAGS += $(FN_HOST_CFLAGS)
FN_NATIVE_OBJS := $(FN_RUNTIME_SRCS:%.c=$(BUILD)/obj/%.o)
FN_HOST_OBJS := $(FN_HOST_SRCS:%.c=$(BUILD)/obj/%.o)

$(FN_NATIVE_LIB): $(FN_NATIVE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(FN_HOST_LIB): $(filter-out %/fn_native_main.o,$(FN_HOST_OBJS))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(FN_NATIVE): $(BUILD)/obj/$(FN_DIR)/host/fn_native_main.o $(FN_HOST_LIB) $(FN_NATIVE_LIB) \
              $(BUILD)/libteemate.a
	$(CC) $(HOST_LDFLAGS) $< $(FN_LINK_LIBS) $(HOST_LDLIBS) -lm -o $@

# The libraries need each other (the runtime calls the native platform in
# the host library): one group.
FN_LINK_LIBS := -Wl,--start-group $(FN_HOST_LIB) $(FN_NATIVE_LIB) $(BUILD)/libteemate.a -Wl,--end-group
# the gateway test links the gateway (libmicrohttpd)
$(BUILD)/tests/test_fn_gateway: HOST_LDLIBS += -lmicrohttpd
$(BUILD)/tests/test_fn_%: $(BUILD)/obj/tests/unit/fn/test_fn_%.o $(FN_HOST_LIB) $(FN_NATIVE_LIB) \
                          $(BUILD)/libteemate.a
	@mkdir -p $(@D)
	$(CC) $(HOST_LDFLAGS) $< $(FN_LINK_LIBS) $(HOST_LDLIBS) -lm -o $@

# `teemate fn` (cli/cmd_fn*.c) runs the runtime natively and attaches to the
# functions' enclaves: the CLI links both libraries.
# `teemate gateway` (cli/cmd_gateway.c, apps/functions/gateway) on libmicrohttpd.
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard cli/cmd_fn*.c) cli/cmd_gateway.c): HOST_CFLAGS += $(FN_HOST_CFLAGS)
$(BUILD)/teemate: $(FN_HOST_LIB) $(FN_NATIVE_LIB)
$(BUILD)/teemate: HOST_LDLIBS := $(FN_LINK_LIBS) $(HOST_LDLIBS) -lm -lmicrohttpd

# fuzz/fuzz_action.c: the action protocol's parsing (fn_serve_proto.c).
build-fuzz/fuzz_action: FUZZ_EXTRA_SRCS := $(FN_DIR)/host/fn_serve_proto.c
build-fuzz/fuzz_action: FUZZ_CFLAGS += -I$(FN_DIR)/host
build-fuzz/fuzz_action: $(FN_DIR)/host/fn_serve_proto.c $(FN_DIR)/host/fn_serve_proto.h

# bench/functions runs the runtime natively and attaches (its warm path):
# its parts in bench/functions/, linked with both libraries.
FN_BENCH_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard bench/functions/*.c)))
$(FN_BENCH_OBJS) $(BUILD)/obj/bench/functions.o: HOST_CFLAGS += $(FN_HOST_CFLAGS) -Ibench/common -Ibench/functions
$(BUILD)/bench/functions: $(FN_BENCH_OBJS) $(FN_HOST_LIB) $(FN_NATIVE_LIB)
$(BUILD)/bench/functions: HOST_LDLIBS := $(FN_LINK_LIBS) $(HOST_LDLIBS) -lm

# fuzz/fuzz_gateway.c: the gateway's own request parsing (gw_parse.c; the
# mode names are fn_record.c's).
build-fuzz/fuzz_gateway: FUZZ_EXTRA_SRCS := $(FN_DIR)/gateway/gw_parse.c $(FN_DIR)/host/fn_record.c
build-fuzz/fuzz_gateway: FUZZ_CFLAGS += -I$(FN_DIR) -I$(FN_DIR)/host -I$(FN_DIR)/gateway
build-fuzz/fuzz_gateway: $(FN_DIR)/gateway/gw_parse.c $(FN_DIR)/gateway/gw_parse.h

# bench/platform drives the gateway over HTTP; it names an action's enclave
# as the gateway does (gw_action_record_name): linked with both libraries.
PF_BENCH_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard bench/platform/*.c)))
$(PF_BENCH_OBJS) $(BUILD)/obj/bench/platform.o: HOST_CFLAGS += $(FN_HOST_CFLAGS) -Ibench/common -Ibench/platform
$(BUILD)/bench/platform: $(PF_BENCH_OBJS) $(FN_HOST_LIB) $(FN_NATIVE_LIB)
$(BUILD)/bench/platform: HOST_LDLIBS := $(FN_LINK_LIBS) $(HOST_LDLIBS) -lm -lmicrohttpd
