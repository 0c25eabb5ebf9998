"""The request pipeline, in request order: route, guards, security (authenticate),
validate, respond (negotiate, generate, Prefer)."""
