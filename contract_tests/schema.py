"""The schemathesis schema of openapi.yaml, configured from schemathesis.toml with
the target's IDs pinned in place of the file's defaults."""

from __future__ import annotations

import tomllib

import schemathesis

from contract_tests.target import SCHEMATHESIS_CONFIG, SPEC, TargetIds


def load_schema(ids: TargetIds) -> schemathesis.BaseSchema:
    settings = tomllib.loads(SCHEMATHESIS_CONFIG.read_text(encoding="utf-8"))
    settings.setdefault("parameters", {}).update({"path.projectId": ids.project_id, "path.chatId": ids.chat_id})
    config = schemathesis.Config.from_dict(settings, base_dir=str(SCHEMATHESIS_CONFIG.parent))
    return schemathesis.openapi.from_path(SPEC, config=config)


schema = load_schema(TargetIds.from_env())
