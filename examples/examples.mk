# Example enclave images (rules from sdk/enclave.mk).
EXAMPLE_IMAGES := $(BUILD)/examples/hello.elf $(BUILD)/examples/selftest.elf
# One concept each, for the integration tests (examples/tests/*.c).
EXAMPLE_TEST_NAMES := fault syscall seal report ecall_args spin exception exit
EXAMPLE_TEST_IMAGES := $(EXAMPLE_TEST_NAMES:%=$(BUILD)/examples/tests/%.elf)

examples: $(EXAMPLE_IMAGES) $(EXAMPLE_TEST_IMAGES)

$(BUILD)/examples/hello.elf: $(call tm_enclave_objs,examples/hello/hello.c) $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)

# Exercises the trusted runtime; main returns the number of failed checks.
$(BUILD)/examples/selftest.elf: $(call tm_enclave_objs,examples/selftest/selftest.c) $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)

$(BUILD)/examples/tests/%.elf: $(BUILD)/enclave/examples/tests/%.o $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)

# Keep the objects (make would delete them as intermediates of the pattern rule).
.SECONDARY: $(EXAMPLE_TEST_NAMES:%=$(BUILD)/enclave/examples/tests/%.o)

# AES-NI inside the enclave (CPUID answered through the host): trusted/tm_cpuid.c.
examples: $(BUILD)/examples/tests/aesni.elf
.SECONDARY: $(BUILD)/enclave/examples/tests/aesni.o

# Data in a container slot: the fork benchmark's image (bench/fork.c) and the
# strawman tests' (tests/unit/test_strawman.c).
examples: $(BUILD)/examples/slotdata.elf
$(BUILD)/examples/slotdata.elf: $(call tm_enclave_objs,examples/slotdata/slotdata.c) $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)
