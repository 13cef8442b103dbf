# TeeMate build.
#   make            CLI, libteemate, tests, benchmarks, SDK runtime and examples in build/
#   make SAN=1      the same under AddressSanitizer + UndefinedBehaviorSanitizer in build-san/
#   make fuzz       libFuzzer targets in build-fuzz/ (clang)
#   make test       everything, then every test (scripts/test.sh does set-up first)

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD ?= build
OPT := -O2
endif

CC ?= gcc
CLANG ?= clang
PKGS := libcrypto jansson libseccomp libcap
WARN := -Wall -Wextra -Werror
HOST_CFLAGS := -std=gnu11 -g $(OPT) $(WARN) -D_GNU_SOURCE -Iabi -Ilib -MMD -MP \
               $(shell pkg-config --cflags $(PKGS))
HOST_LDFLAGS := $(OPT)
HOST_LDLIBS := $(shell pkg-config --libs $(PKGS)) -lpthread

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
LIB_ASM_SRCS := $(sort $(wildcard lib/*/*.S))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB_ASM_SRCS:%.S=$(BUILD)/obj/%.o)
CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
BENCH_COMMON_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard bench/common/*.c)))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=build-fuzz/%)

.PHONY: all lib cli tests bench examples fuzz test clean
all: cli lib tests bench examples
lib: $(BUILD)/libteemate.a
cli: $(BUILD)/teemate
tests: $(TEST_BINS)
bench: $(BENCH_BINS)
fuzz: $(FUZZ_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/libteemate.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/teemate: $(CLI_OBJS) $(BUILD)/libteemate.a
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libteemate.a
	@mkdir -p $(dir $@)
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -o $@

$(BUILD)/obj/bench/%.o: HOST_CFLAGS += -Ibench/common -Iexamples
# bench/kv's parts (bench/kv/*.c) linked into build/bench/kv.
KV_BENCH_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard bench/kv/*.c)))
$(KV_BENCH_OBJS) $(BUILD)/obj/bench/kv.o: HOST_CFLAGS += -Ibench/kv
$(BUILD)/bench/kv: $(KV_BENCH_OBJS)
# bench/snapshot's parts (bench/snapshot/*.c) linked into build/bench/snapshot.
SNAPSHOT_BENCH_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard bench/snapshot/*.c)))
$(SNAPSHOT_BENCH_OBJS) $(BUILD)/obj/bench/snapshot.o: HOST_CFLAGS += -Ibench/snapshot
$(BUILD)/bench/snapshot: $(SNAPSHOT_BENCH_OBJS)
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BENCH_COMMON_OBJS) $(BUILD)/libteemate.a
	@mkdir -p $(dir $@)
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -lm -o $@

# Fuzzers compile the library sources themselves, with coverage instrumentation.
FUZZ_CFLAGS := -std=gnu11 -g -O1 $(WARN) -D_GNU_SOURCE -Iabi -Ilib \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
               $(shell pkg-config --cflags $(PKGS))
build-fuzz/%: fuzz/%.c $(LIB_SRCS) $(LIB_ASM_SRCS) $(wildcard lib/*/*.h abi/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_EXTRA_SRCS) $(LIB_SRCS) $(LIB_ASM_SRCS) $(HOST_LDLIBS) -o $@

# Enclave side: the SDK (trusted runtime, linker script, rules) and the examples.
include sdk/enclave.mk
include examples/examples.mk
include apps/functions/functions.mk
include apps/kv/kv.mk

test:
	scripts/test.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
