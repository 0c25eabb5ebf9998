"""The contract suite's one redaction (contract_tests/redaction.py): every credential it
holds, as the variable a reader sets in a curl line, and out of any text it prints."""

from __future__ import annotations

import base64
import subprocess
import sys

import jwt
from support import ROOT

sys.path.insert(0, str(ROOT))
from contract_tests.redaction import TOKEN_MARK, Secrets  # noqa: E402

TOKEN = jwt.encode({"sub": "usr_morgan_de", "exp": 4102444800}, "k" * 32, algorithm="HS256")
MEMBER = jwt.encode({"sub": "usr_CuXGNqCoY9JGW0", "exp": 4102444800}, "k" * 32, algorithm="HS256")


def registry() -> Secrets:
    secrets = Secrets()
    secrets.add(TOKEN, "CONTRACT_TOKEN")
    secrets.add(MEMBER, "CONTRACT_PARTICIPANT_TOKEN")
    secrets.add("alex-demo-password", "CONTRACT_MEMBER_PASSWORD")
    secrets.add("a-team-api-key-0123456789", "CONTRACT_API_KEY")
    secrets.add_basic("morgan@example.com:hunter22")
    return secrets


def test_a_curl_line_names_each_credential_by_its_variable_and_the_shell_expands_it():
    basic = base64.b64encode(b"morgan@example.com:hunter22").decode()
    parts = ["curl", "-H", f"Authorization: Bearer {MEMBER}", "-H", f"Authorization: Basic {basic}"]
    parts += ["-H", "X-API-Key: a-team-api-key-0123456789", "--data-binary", '{"price": "$5", "q": "`x`"}']
    line = registry().shell_join(parts)
    assert line == (
        'curl -H "Authorization: Bearer $CONTRACT_PARTICIPANT_TOKEN" '
        '-H "Authorization: Basic $(printf %s "$CONTRACT_BASIC" | base64)" '
        '-H "X-API-Key: $CONTRACT_API_KEY" --data-binary \'{"price": "$5", "q": "`x`"}\''
    )
    env = {
        "CONTRACT_PARTICIPANT_TOKEN": MEMBER,
        "CONTRACT_BASIC": "morgan@example.com:hunter22",
        "CONTRACT_API_KEY": "a-team-api-key-0123456789",
    }
    echoed = subprocess.run(
        ["sh", "-c", "printf '%s\\n' " + line.removeprefix("curl ")],
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.splitlines()
    assert echoed == parts[1:]


def test_text_loses_every_credential_whole_or_cut_and_every_other_token():
    secrets = registry()
    forged = jwt.encode({"sub": "x"}, "another-key-0123456789abcdef0123", algorithm="HS256")
    text = (
        f"{{'Authorization': 'Bearer {TOKEN}'}} saw {MEMBER[:30]}... and {forged}, "
        f"password 'alex-demo-...' then ...{TOKEN[-20:]} and rt_abcdefghijkl"
    )
    redacted = secrets.redact(text)
    assert redacted == (
        "{'Authorization': 'Bearer $CONTRACT_TOKEN'} saw $CONTRACT_PARTICIPANT_TOKEN... and "
        f"{TOKEN_MARK}, password '$CONTRACT_MEMBER_PASSWORD...' then ...$CONTRACT_TOKEN and {TOKEN_MARK}"
    )
    assert "eyJ" not in redacted


def test_a_variable_names_a_value_first_learned_from_a_login():
    secrets = Secrets()
    secrets.learn({"token": TOKEN, "refreshToken": "opaque-refresh-0123456789"})
    assert secrets.redact(f"{TOKEN} opaque-refresh-0123456789") == "[a token of a login] [a refresh token]"
    secrets.add(TOKEN, "CONTRACT_TOKEN")
    secrets.add(TOKEN, "[something else]")
    assert secrets.redact(TOKEN) == "$CONTRACT_TOKEN"
