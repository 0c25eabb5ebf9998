"""The failures the behaviours send, as openapi.yaml declares them: given to the contract
stage as data, so that a document served with these behaviours declares them too."""

from __future__ import annotations

from functools import cache

from mockserver import settings
from mockserver.contract.additions import Additions
from mockserver.contract.loading import load_document


def additions(routes: dict[str, tuple[str, str]], served: set[str]) -> Additions:
    """The Additions of the behaviours of `served` operationIds, each at its route."""
    declared = _declared_failures()
    return Additions(
        behaviour_failures={
            (operation_id, *routes[operation_id]): declared.get(operation_id, {}) for operation_id in served
        }
    )


@cache
def _declared_failures() -> dict[str, dict[int, str]]:
    """operationId -> {status: description} of the failures openapi.yaml declares for
    each behaviour (what the behaviours are written to send)."""
    data = load_document(settings.DEFAULT_SPEC).data
    components = (data.get("components") or {}).get("responses") or {}
    out: dict[str, dict[int, str]] = {}
    for item in data["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            for key, response in (op.get("responses") or {}).items():
                status = int(key) if str(key).isdigit() else 0
                if 400 <= status < 500 and status != 429:
                    if "$ref" in response:
                        response = components.get(response["$ref"].rsplit("/", 1)[-1], {})
                    why = " ".join(str(response.get("description", "a failure of the behaviour")).split()).rstrip(".")
                    out.setdefault(op["operationId"], {})[status] = why[:1].lower() + why[1:]
    return out
