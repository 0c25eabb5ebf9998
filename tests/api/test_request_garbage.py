"""A request's objects are freed as it ends, by reference counting, not left in reference
cycles for the garbage collector: each left-over request context cost a collection's
walk (a collection every 14 requests on the Petstore read, 5% of its CPU, measured
2026-12-03). What werkzeug's router leaves (a recursive closure, 8 small objects a
request) is not the mock's."""

from __future__ import annotations

import gc

import pytest
from support import FIXTURES, PROJECT, ROOT, SECRET, bearer
from werkzeug.test import EnvironBuilder

from mockserver import create_app
from mockserver.errors import ApiError

PETSTORE = ROOT / "tests" / "specs" / "petstore.yaml"
CHATS = f"/api/chat/projects/{PROJECT}/chats"


def cyclic_garbage(app, method: str, path: str, **kwargs) -> list[str]:
    """The type names of what 20 such requests leave in reference cycles, called as the
    server calls the app (Flask's test client keeps cycles of its own)."""

    def call() -> None:
        environ = EnvironBuilder(path=path, method=method, **kwargs).get_environ()
        b"".join(app(environ, lambda status, headers, exc_info=None: None))

    for _ in range(3):  # warm: what the first requests compile and keep
        call()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(20):
            call()
        gc.collect()
        return [type(thing).__name__ for thing in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize(
    "spec, method, path, kwargs",
    [
        # api_key fails first, then the bearer token passes: a refusal kept, not raised
        (PETSTORE, "GET", "/api/v3/pet/10", {"headers": bearer()}),
        (PETSTORE, "POST", "/api/v3/pet", {"headers": bearer(), "json": {"name": "Rex", "photoUrls": []}}),
        (None, "GET", CHATS, {}),  # a 401: an ApiError to the error handler
        (None, "GET", CHATS, {"headers": bearer()}),
        (None, "GET", "/api/nowhere", {}),  # werkzeug's NotFound, raised from its matcher's own
        (None, "PATCH", CHATS, {"headers": bearer()}),  # a 405
    ],
    ids=["inferred read", "inferred create", "401", "chat list", "404", "405"],
)
def test_a_request_leaves_nothing_of_its_own_to_the_collector(app, spec, method, path, kwargs):
    served = app if spec is None else create_app(spec, FIXTURES, jwt_secret=SECRET)
    left = cyclic_garbage(served, method, path, **kwargs)
    kept = {"Request", "RequestContext", "Response", "Call", ApiError.__name__, "NotFound", "frame", "traceback"}
    assert kept.isdisjoint(left), sorted(set(left) & kept)
