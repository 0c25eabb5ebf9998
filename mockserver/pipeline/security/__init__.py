"""Authentication: one handler per security scheme, the JWTs the mock issues and verifies."""
