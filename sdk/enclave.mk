# Placeholder, replaced by the SDK work: build rules for enclave images.
