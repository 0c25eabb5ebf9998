"""The resources of a document: which operations create, list, read, replace, merge and
delete the same items, inferred from the document alone (infer.py).

Its own layer, between the store and the pipeline (pyproject.toml's [tool.importlinter]),
not inside the contract stage: today it reads nothing but the contract (the document, its
operations, the one pointer resolver, which response is the success), but the model is
made for the layers above to consume (a store that keeps items per resource, a behaviour
that answers a role), and the next steps may need the pipeline below it (the generator,
to fill an item's ID on create; the negotiator, to wrap an item as a response declares).
Inside the contract stage it could use neither, and the stage that every other imports
would grow a second concern. Nothing here changes how an operation is answered.
"""

from __future__ import annotations

from mockserver.resources.infer import (
    SIZE_PARAMETERS,
    Filter,
    IdBinding,
    Listing,
    Paging,
    PatchFormat,
    Placement,
    Resource,
    ResourceModel,
    Role,
    Skipped,
    infer,
)

__all__ = [
    "SIZE_PARAMETERS",
    "Filter",
    "IdBinding",
    "Listing",
    "Paging",
    "PatchFormat",
    "Placement",
    "Resource",
    "ResourceModel",
    "Role",
    "Skipped",
    "infer",
]
