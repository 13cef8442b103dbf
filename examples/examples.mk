# Placeholder, replaced by the SDK work: example enclave images.
examples:
