"""The validating proxy: forward instead of behave, check responses, record violations."""
