"""Request validation: compiled validators first, openapi-core the reference."""
