"""The schemathesis schema of openapi.yaml, configured from schemathesis.toml with
the target's IDs pinned in place of the file's defaults."""

from __future__ import annotations

import os
import tomllib

import schemathesis

from contract_tests.target import SCHEMATHESIS_CONFIG, SPEC, TargetIds


def load_schema(ids: TargetIds) -> schemathesis.BaseSchema:
    settings = tomllib.loads(SCHEMATHESIS_CONFIG.read_text(encoding="utf-8"))
    settings.setdefault("parameters", {}).update(
        {"path.projectId": ids.project_id, "path.chatId": ids.chat_id, "path.messageId": ids.message_id}
    )
    # The suite sends its own token (target.py); the CLI's login settings do not apply.
    settings.pop("auth", None)
    if os.environ.get("CONTRACT_MAX_EXAMPLES"):
        # Fewer generated cases per operation and phase, for quick runs (the mutant proofs).
        settings.setdefault("generation", {})["max-examples"] = int(os.environ["CONTRACT_MAX_EXAMPLES"])
    config = schemathesis.Config.from_dict(settings, base_dir=str(SCHEMATHESIS_CONFIG.parent))
    return schemathesis.openapi.from_path(SPEC, config=config)


schema = load_schema(TargetIds.from_env())
