"""Slowing the mock down and breaking it on purpose: `--latency` for every API response,
and fault rules per operation, added over the admin API (POST /__mock/faults).

A rule delays a call (`delayMs`), answers it with a declared `status` instead of its
behaviour, or answers nothing (`fault`: a TCP reset or an empty reply); for a share of
calls (`rate`) and a number of times (`times`). The first rule of an operation that
fires applies. Random choices come from seeded generators (`seed` of a rule, or the
mock's --seed), so a test can rely on a sequence without asserting on chance.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver.errors import ApiError

# The WSGI environ key under which the mock's server (server/http/exchange.py) offers to drop the
# connection: a callable taking "reset" or "empty".
DROP_CONNECTION = "mockserver.drop_connection"
# ... and to hold the answer back: a callable taking seconds. The server sends the answer
# once they have passed and serves other requests meanwhile.
HOLD_ANSWER = "mockserver.hold_answer"
MAX_DELAY_MS = 60_000
ADMIN_URI = "urn:mockserver:admin"


@dataclass(frozen=True)
class Latency:
    """--latency: a fixed delay (low == high) or a range, in milliseconds."""

    low: int
    high: int

    @classmethod
    def parse(cls, text: str) -> Latency:
        """`250` or `100-400`; ValueError when it is neither."""
        low, dash, high = text.strip().partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(f"{text!r} is not milliseconds such as 250, or a range such as 100-400")
        latency = cls(int(low), int(high or low))
        if latency.low > latency.high or latency.high > MAX_DELAY_MS:
            raise ValueError(f"{text!r}: the range must go up, to at most {MAX_DELAY_MS} ms")
        return latency

    def draw(self, rng: random.Random, lock: threading.Lock) -> int:
        """The next delay, in milliseconds."""
        with lock:
            return self.low if self.low == self.high else rng.randint(self.low, self.high)


def hold_answer(environ: dict, milliseconds: int) -> bool:
    """Delay the answer by `milliseconds`: the server holds it back (True); under one that
    cannot (Flask's test client), the request waits here (False)."""
    hold = environ.get(HOLD_ANSWER)
    if hold is None:
        time.sleep(milliseconds / 1000)
        return False
    hold(milliseconds / 1000)
    return True


@dataclass
class Rule:
    id: str
    operation_id: str
    delay_ms: int | None
    status: int | None
    fault: str | None
    rate: float
    remaining: int | None  # None: no limit
    seed: int | None
    rng: random.Random = field(repr=False)
    applied: int = 0

    def document(self) -> dict[str, Any]:
        optional = {"delayMs": self.delay_ms, "status": self.status, "fault": self.fault, "seed": self.seed}
        return {
            "id": self.id,
            "operationId": self.operation_id,
            **{name: value for name, value in optional.items() if value is not None},
            "rate": self.rate,
            "remaining": self.remaining,
            "applied": self.applied,
        }


class RuleBook:
    """The active rules, shared by every request thread (and, in the state process, by
    every worker: server/sharing.py). `active` (a shared number, or None) is kept at the
    count of rules, so that a worker asks the state process only when there are any."""

    def __init__(self, seed: int | None = None, active: Any = None) -> None:
        self.rules: list[Rule] = []
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.seed = seed
        self.rng = random.Random(seed)  # for rules without a seed of their own
        self.active = active

    def add(self, fields: dict[str, Any]) -> Rule:
        """A rule of checked `fields` (a FaultRuleInput)."""
        with self.lock:
            seed = fields.get("seed")
            rule = Rule(
                id=f"fault_{next(self.ids)}",
                operation_id=fields["operationId"],
                delay_ms=fields.get("delayMs"),
                status=fields.get("status"),
                fault=fields.get("fault"),
                rate=float(fields.get("rate", 1)),
                remaining=fields.get("times"),
                seed=seed,
                rng=random.Random(seed if seed is not None else self.rng.getrandbits(64)),
            )
            self.rules.append(rule)
            self._count()
        return rule

    def take(self, operation_id: str) -> Rule | None:
        """The rule that applies to this call of `operation_id`, counted as applied."""
        with self.lock:
            for rule in self.rules:
                if rule.operation_id != operation_id:
                    continue
                if rule.rate < 1 and rule.rng.random() >= rule.rate:
                    continue
                rule.applied += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.rules.remove(rule)
                        self._count()
                return rule
        return None

    def listing(self) -> list[dict[str, Any]]:
        with self.lock:
            return [rule.document() for rule in self.rules]

    def remove(self, rule_id: str) -> bool:
        with self.lock:
            kept = [rule for rule in self.rules if rule.id != rule_id]
            removed = len(kept) != len(self.rules)
            self.rules = kept
            self._count()
        return removed

    def clear(self) -> None:
        """No rules; the generators start again from --seed, so a reset run repeats."""
        with self.lock:
            self.rules = []
            self.rng = random.Random(self.seed)
            self._count()

    def _count(self) -> None:
        if self.active is not None:
            self.active.value = len(self.rules)


class FaultRules:
    """The rules as the admin API adds them: each POST body checked against the admin
    document's FaultRuleInput (the rule's one definition) and the served operations, then
    kept in `book` (this process's, or the workers' shared one)."""

    def __init__(self, admin_document: dict, declared: dict[str, list[str]], book: RuleBook) -> None:
        registry = Registry().with_resource(ADMIN_URI, Resource.from_contents(admin_document, DRAFT202012))
        rule_schema = {"$ref": f"{ADMIN_URI}#/components/schemas/FaultRuleInput"}
        self.validator = Draft202012Validator(rule_schema, registry=registry)
        self.declared = declared  # operationId -> declared status keys
        self.book = book
        self.take, self.listing, self.remove, self.clear = book.take, book.listing, book.remove, book.clear

    def add(self, body: Any) -> Rule:
        """A rule from a POST body; a 400 ApiError naming the field when it is not one."""
        # A field's own error first: a property that fails its schema also counts as unevaluated.
        errors = sorted(
            self.validator.iter_errors(body), key=lambda e: (not e.path, e.validator == "unevaluatedProperties")
        )
        error = best_match(errors[:1])
        if error is not None:
            raise _invalid(*_field_error(error))
        operation_id = body["operationId"]
        if operation_id not in self.declared:
            raise _invalid("operationId", f"{operation_id!r} is not an operation of the served document")
        status = body.get("status")
        if status is not None and not _declares(self.declared[operation_id], status):
            declared = ", ".join(self.declared[operation_id])
            raise _invalid("status", f"{operation_id} does not declare status {status}; declared: {declared}")
        return self.book.add(body)


def _declares(statuses: list[str], status: int) -> bool:
    return any(key in statuses for key in (str(status), f"{status // 100}XX", "default"))


def _field_error(error: ValidationError) -> tuple[str, str]:
    """The field a schema error is about, and what is wrong with it."""
    if error.path:
        return str(error.path[0]), error.message
    if error.validator == "required":
        return error.message.split("'")[1], error.message
    if error.validator == "unevaluatedProperties":
        return "body", error.message.replace("Unevaluated properties are", "Unknown fields are")
    if error.validator == "not":
        return "fault", "Give a status or a fault, not both"
    if error.validator == "anyOf":
        return "body", "Give at least one of delayMs, status and fault"
    return "body", error.message


def _invalid(name: str, message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "Validation failed", {name: message})
