# Example enclave images (rules from sdk/enclave.mk).
EXAMPLE_IMAGES := $(BUILD)/examples/hello.elf $(BUILD)/examples/selftest.elf

examples: $(EXAMPLE_IMAGES)

$(BUILD)/examples/hello.elf: $(call tm_enclave_objs,examples/hello/hello.c) $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)

# Exercises the trusted runtime; main returns the number of failed checks.
$(BUILD)/examples/selftest.elf: $(call tm_enclave_objs,examples/selftest/selftest.c) $(TM_ENCLAVE_DEPS)
	$(TM_ENCLAVE_LINK)
