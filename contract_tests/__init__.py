"""Contract tests: check any implementation at a base URL against openapi.yaml."""
