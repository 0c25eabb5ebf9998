"""Deliberately broken variants of the mock, each breaking one behaviour.

The contract suite must fail against every one of them (test_contract_suite.py).
Each mutant patches the mock in its own process:

    python tests/mutants.py NAME    # serves mutant NAME on a free port, prints its URL
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import jwt
from flask import Response

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mockserver import behaviours  # noqa: E402
from mockserver.behaviours import documents  # noqa: E402
from mockserver.behaviours import messages as messages_module  # noqa: E402
from mockserver.errors import ApiError  # noqa: E402
from mockserver.pipeline.respond.negotiate import Negotiator  # noqa: E402
from mockserver.pipeline.security.tokens import BearerJWT, Caller  # noqa: E402
from mockserver.pipeline.validate import reference as reference_module  # noqa: E402
from mockserver.pipeline.validate import request as request_module  # noqa: E402
from mockserver.pipeline.validate.request import RequestValidator  # noqa: E402
from mockserver.server import app as app_module  # noqa: E402
from mockserver.store import Participant, RuleViolation, Store  # noqa: E402


@dataclass(frozen=True)
class Mutant:
    breaks: str
    patches: Callable[[], list]  # the mock.patch objects that make the mutant
    caught_by: str  # part of the name of a contract test that must fail against it
    # Only a token signed with the target's secret (or one the team provides) shows the
    # bug, so the suite cannot catch it with credentials alone.
    needs_secret: bool = False
    # The bug keeps the scenarios from undoing what they changed (a removal that would
    # undo an addition is forgotten), so the target may not be left as found.
    undoable: bool = True


def accepts_any_token():
    original = BearerJWT.authenticate

    def authenticate(self, headers):
        # Like Prism: any Authorization header passes; a missing one is still a 401.
        return Caller("usr_morgan_de", "ses_any") if headers.get("Authorization") else original(self, headers)

    return [mock.patch.object(BearerJWT, "authenticate", authenticate)]


def wrap_jwt_decode(decode):
    """Replace PyJWT's decode as the mock calls it; its errors still become 401s."""
    original = jwt.decode
    return [mock.patch.object(jwt, "decode", lambda token, *args, **kwargs: decode(original, token, *args, **kwargs))]


def accepts_alg_none():
    def decode(original, token, *args, **kwargs):
        if jwt.get_unverified_header(token).get("alg") == "none":
            return original(token, options={"verify_signature": False})
        return original(token, *args, **kwargs)

    return wrap_jwt_decode(decode)


def ignores_exp():
    def decode(original, token, *args, options=None, **kwargs):
        return original(token, *args, options={**(options or {}), "verify_exp": False}, **kwargs)

    return wrap_jwt_decode(decode)


def wrap_store(method: str, after_original):
    original = getattr(Store, method)

    def wrapped(self, *args, **kwargs):
        return after_original(self, original, *args, **kwargs)

    return [mock.patch.object(Store, method, wrapped)]


def ok_for_non_participants():
    def remove(self, original, *args):
        try:
            original(self, *args)
        except RuleViolation as exc:
            if exc.code != "NOT_A_PARTICIPANT":
                raise

    return wrap_store("remove_participant", remove)


def forgets_removals():
    def remove(self, original, project_id, chat_id, *args):
        chat = self._chat(project_id, chat_id)
        before = dict(chat.participants)
        original(self, project_id, chat_id, *args)
        chat.participants = before  # like a stateless mock: the change is gone

    return wrap_store("remove_participant", remove)


def no_authorization():
    def remove(self, original, project_id, chat_id, caller_id, user_id):
        # Acts as if the caller were the user being removed: self-removal is always allowed.
        return original(self, project_id, chat_id, user_id, user_id)

    return wrap_store("remove_participant", remove)


def ignores_the_path():
    def remove(self, original, project_id, chat_id, *args):
        # Every request lands on the first chat of the first project.
        project = next(iter(self._projects.values()))
        return original(self, project.id, next(iter(project.chats)), *args)

    return wrap_store("remove_participant", remove)


def adds_without_admin():
    def add(self, original, project_id, chat_id, caller_id, *rest):
        # Acts as if the chat's first admin had asked.
        admin = next(user for user, p in self._chat(project_id, chat_id).participants.items() if p.role == "admin")
        return original(self, project_id, chat_id, admin, *rest)

    return wrap_store("add_participant", add)


def adds_strangers():
    def add(self, original, project_id, chat_id, caller_id, user_id, role, now):
        try:
            return original(self, project_id, chat_id, caller_id, user_id, role, now)
        except RuleViolation as exc:
            if exc.code != "NOT_A_PROJECT_MEMBER":
                raise
            chat = self._chat(project_id, chat_id)
            chat.participants[user_id] = Participant(role, now)
            return chat.snapshot()

    return wrap_store("add_participant", add)


def duplicate_add_is_200():
    def add(self, original, project_id, chat_id, *args):
        try:
            return original(self, project_id, chat_id, *args)
        except RuleViolation as exc:
            if exc.code != "ALREADY_A_PARTICIPANT":
                raise
            return self._chat(project_id, chat_id).snapshot()

    return wrap_store("add_participant", add)


def chat_visible_to_outsiders():
    def chat(self, original, project_id, chat_id, caller_id):
        chat = self._projects.get(project_id) and self._projects[project_id].chats.get(chat_id)
        return original(self, project_id, chat_id, next(iter(chat.participants), caller_id) if chat else caller_id)

    return wrap_store("chat", chat)


def unlisted_messages():
    def send(self, original, project_id, chat_id, *args, **kwargs):
        message = original(self, project_id, chat_id, *args, **kwargs)
        del self._chat(project_id, chat_id).messages[message.id]  # answered, never stored
        return message

    return wrap_store("send_message", send)


def no_pagination():
    def messages(self, original, *args, **kwargs):
        return original(self, *args, **{**kwargs, "offset": 0, "limit": 1_000_000})

    return wrap_store("messages", messages)


def total_of_the_page():
    def messages(self, original, *args, **kwargs):
        page, _ = original(self, *args, **kwargs)
        return page, len(page)  # counts this page, not all of them

    return wrap_store("messages", messages)


def sender_is_the_caller():
    def messages(self, original, project_id, chat_id, caller_id, **kwargs):
        page, total = original(self, project_id, chat_id, caller_id, **kwargs)
        return [replace(message, sender_id=caller_id) for message in page], total  # "my" messages, all of them

    return wrap_store("messages", messages)


def no_time_filters():
    def messages(self, original, *args, **kwargs):
        return original(self, *args, **{**kwargs, "before": None, "after": None})

    return wrap_store("messages", messages)


def reads_not_recorded():
    def mark_read(self, original, project_id, chat_id, caller_id, message_ids):
        chat = self._visible_chat(project_id, chat_id, caller_id)
        readers = {id_: list(m.read_by) for id_, m in chat.messages.items()}
        count = original(self, project_id, chat_id, caller_id, message_ids)
        for id_, message in chat.messages.items():
            message.read_by = readers[id_]  # counted, then forgotten
        return count

    return wrap_store("mark_read", mark_read)


def read_count_at_most_one():
    def mark_read(self, original, *args):
        return min(original(self, *args), 1)  # "any were marked", not how many

    return wrap_store("mark_read", mark_read)


def reaction_count_always_one():
    def document(reactions):
        return [{"emoji": emoji, "count": 1, "users": users} for emoji, users in reactions.items()]

    # Both places that render reactions: addReaction/removeReaction, and the listed messages.
    return [mock.patch.object(module, "reactions_document", document) for module in (messages_module, documents)]


def reactions_for_all():
    def remove(self, original, project_id, chat_id, message_id, caller_id, emoji):
        original(self, project_id, chat_id, message_id, caller_id, emoji)
        reactions = self._message(self._chat(project_id, chat_id), message_id).reactions
        reactions.pop(emoji, None)  # everyone's reaction with it goes
        return {e: list(users) for e, users in reactions.items()}

    return wrap_store("remove_reaction", remove)


def as_the_author(method: str):
    """`method` acts as if the message's author had asked."""

    def act(self, original, project_id, chat_id, message_id, caller_id, *args):
        chat = self._projects.get(project_id) and self._projects[project_id].chats.get(chat_id)
        message = chat.messages.get(message_id) if chat else None
        author = message.sender_id if message and caller_id in chat.participants else caller_id
        return original(self, project_id, chat_id, message_id, author, *args)

    return wrap_store(method, act)


def outsiders_see_chats():
    def visible(self, original, project_id, chat_id, caller_id):
        project = self._projects.get(project_id)
        chat = project.chats.get(chat_id) if project else None
        if chat and caller_id in project.members and chat.participants:
            caller_id = next(iter(chat.participants))  # any project member may look in
        return original(self, project_id, chat_id, caller_id)

    return wrap_store("_visible_chat", visible)


def removed_can_send():
    def send(self, original, project_id, chat_id, caller_id, **kwargs):
        chat = self._chat(project_id, chat_id)
        if caller_id not in chat.participants and caller_id in self._projects[project_id].members:
            chat.participants[caller_id] = Participant("member", self.now())  # lets them back in
        return original(self, project_id, chat_id, caller_id, **kwargs)

    return wrap_store("send_message", send)


def creator_not_admin():
    def create(self, original, project_id, caller_id, *args):
        chat = original(self, project_id, caller_id, *args)
        stored = self._chat(project_id, chat.id)
        stored.participants[caller_id] = Participant("member", chat.created_at)
        return stored.snapshot()

    return wrap_store("create_chat", create)


def reusable_refresh_tokens():
    def rotate(self, original, refresh_token):
        session = self._sessions.get(self._refresh_tokens.get(refresh_token, ""))
        if session and not session.revoked:
            session.refresh_token = refresh_token  # a spent token counts as the current one
        return original(self, refresh_token)

    return wrap_store("rotate_refresh_token", rotate)


def session_of_the_first_user():
    original = behaviours.BEHAVIOURS["getCurrentSession"]

    def get_current_session(call):
        # Like a stub with one demo user: the fixtures' first, whoever's token it is.
        first = next(iter(call.store.users))
        return original(replace(call, caller=call.caller and replace(call.caller, user_id=first)))

    return [mock.patch.dict(behaviours.BEHAVIOURS, {"getCurrentSession": get_current_session})]


def logout_does_nothing():
    return [mock.patch.object(Store, "end_session", lambda self, session_id, user_id: None)]


def keys_not_stored():
    def put(self, original, project_id, caller_id, *args):
        keys = self._project(project_id).e2ee_keys
        before = keys.get(caller_id)
        key = original(self, project_id, caller_id, *args)
        if before is None:
            keys.pop(caller_id, None)
        else:
            keys[caller_id] = before  # answered, never stored
        return key

    return wrap_store("put_e2ee_key", put)


def crashes_on_malformed_json():
    def loads(value: bytes, **_parameters):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise RuntimeError("unhandled parse error") from exc

    return [mock.patch.object(module, "strict_json_loads", loads) for module in (reference_module, request_module)]


def render_with(make: Callable[[ApiError, Response], Response]):
    """Every error response as `make` changes it: the app's own (routing) and the final
    answer of an operation's failure, after the negotiator fitted it to the contract."""
    original_render, original_error = app_module.render, Negotiator.error

    def render(exc: ApiError) -> Response:
        return make(exc, original_render(exc))

    def error(self, operation_id, exc: ApiError) -> Response:
        return make(exc, original_error(self, operation_id, exc))

    return [mock.patch.object(app_module, "render", render), mock.patch.object(Negotiator, "error", error)]


def error_body_violates_schema():
    def make(exc, response):
        response.set_data(json.dumps({"error": {"message": exc.error}, "code": exc.status}))
        return response

    return render_with(make)


def html_error_pages():
    def make(exc, response):
        return Response(
            f"<html><body><h1>{exc.status} {exc.error}</h1></body></html>", exc.status, mimetype="text/html"
        )

    return render_with(make)


def no_bearer_challenge():
    def make(exc, response):
        response.headers.pop("WWW-Authenticate", None)
        return response

    return render_with(make)


def wrap_validation(make):
    original = RequestValidator.validate

    def validate(self, request):
        return make(lambda contract, request: original(self, request), self.contract, request)

    return [mock.patch.object(RequestValidator, "validate", validate)]


def validation_errors_are_422():
    def make(exc, response):
        if exc.code == "VALIDATION_ERROR":
            response.status_code = 422
        return response

    return render_with(make)


def accepts_a_missing_body():
    def validate(original, contract, request):
        try:
            return original(contract, request)
        except ApiError as exc:
            if request.endpoint != "removeParticipant" or exc.details != {"body": "Request body is required"}:
                raise
            return SimpleNamespace(parameters=SimpleNamespace(path=request.view_args), body={"userId": ""})

    return wrap_validation(validate)


def over_strict_user_ids():
    def validate(original, contract, request):
        result = original(contract, request)
        user_id = (result.body or {}).get("userId") if isinstance(result.body, dict) else None
        if user_id is not None and not user_id.startswith("usr_"):
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", {"userId": "must start with usr_"})
        return result

    return wrap_validation(validate)


MUTANTS: dict[str, Mutant] = {
    "any-token": Mutant("accepts any bearer token", accepts_any_token, "bad_credentials_are_401[other key]"),
    "alg-none": Mutant("accepts alg: none tokens", accepts_alg_none, "bad_credentials_are_401[alg none]"),
    "ignores-exp": Mutant("accepts expired tokens", ignores_exp, "an_expired_token_is_401", needs_secret=True),
    "non-participant-200": Mutant(
        "200 for a user who is not a participant", ok_for_non_participants, "no_participant_is_a_400"
    ),
    "forgets-removals": Mutant("forgets removals (stateless)", forgets_removals, "then_add_them_back", undoable=False),
    "no-authorization": Mutant("any participant may remove anyone", no_authorization, "only_an_admin"),
    "ignores-path": Mutant("ignores the project and chat of the path", ignores_the_path, "path_names_the_chat"),
    "add-without-admin": Mutant("anyone may add participants", adds_without_admin, "only_an_admin_adds"),
    "adds-strangers": Mutant("adds users from outside the project", adds_strangers, "only_project_members"),
    "duplicate-add-200": Mutant("200 for adding a participant twice", duplicate_add_is_200, "then_add_them_back"),
    "chat-visible-to-all": Mutant("chat details for outsiders", chat_visible_to_outsiders, "outsiders_cannot"),
    "unlisted-messages": Mutant("sent messages are not stored", unlisted_messages, "sent_message_is_listed"),
    "no-pagination": Mutant("ignores page and limit", no_pagination, "pagination_and_time_filters"),
    "no-time-filters": Mutant("ignores before and after", no_time_filters, "pagination_and_time_filters"),
    "total-of-the-page": Mutant("messages total counts the page", total_of_the_page, "pagination_and_time_filters"),
    "sender-is-caller": Mutant("lists every message as the caller's", sender_is_the_caller, "listed_with_its_sender"),
    "reads-not-recorded": Mutant("forgets what was read", reads_not_recorded, "unread_count_and_last_message"),
    "read-count-0-or-1": Mutant("modifiedCount is 0 or 1", read_count_at_most_one, "unread_count_and_last_message"),
    "reactions-for-all": Mutant("unreacting removes everyone's", reactions_for_all, "reactions_are_per_user"),
    "reaction-count-1": Mutant("every reaction's count is 1", reaction_count_always_one, "reactions_are_per_user"),
    "anyone-edits": Mutant("any participant edits any message", lambda: as_the_author("edit_message"), "author_edits"),
    "members-delete-all": Mutant(
        "any participant deletes any message", lambda: as_the_author("delete_message"), "author_or_a_chat_admin"
    ),
    "outsiders-see-chats": Mutant("project members see every chat", outsiders_see_chats, "outsiders_cannot"),
    "removed-can-send": Mutant("a removed participant sends (and is back)", removed_can_send, "removed_participant"),
    "creator-not-admin": Mutant("a chat's creator is a plain member", creator_not_admin, "creator_as_admin"),
    "reusable-refresh": Mutant("a refresh token works again", reusable_refresh_tokens, "works_once_and_rotates"),
    "first-user-session": Mutant(
        "getCurrentSession reports the first user", session_of_the_first_user, "session_of_the_members_token"
    ),
    "logout-noop": Mutant("logout ends nothing", logout_does_nothing, "logout_ends_the_session"),
    "keys-not-stored": Mutant("E2EE keys are not stored", keys_not_stored, "e2ee_keys_are_stored"),
    "500-on-malformed-json": Mutant(
        "500 on malformed JSON", crashes_on_malformed_json, "validation_error[malformed JSON]"
    ),
    "error-shape": Mutant("error body violates Error", error_body_violates_schema, "operation_conforms"),
    "html-errors": Mutant("HTML error pages", html_error_pages, "operation_conforms"),
    "status-422": Mutant("undocumented status 422 for validation errors", validation_errors_are_422, "conforms"),
    "missing-body": Mutant("accepts a missing body", accepts_a_missing_body, "validation_error[no body]"),
    "no-challenge": Mutant("401 without WWW-Authenticate", no_bearer_challenge, "bad_credentials_are_401[missing]"),
    "over-strict": Mutant(
        "rejects schema-valid userIds as VALIDATION_ERROR", over_strict_user_ids, "state_changing_operation_conforms"
    ),
}


def serve(name: str) -> None:
    from mockserver import create_app
    from mockserver.server.serving import create_server

    for patch in MUTANTS[name].patches() if name != "none" else []:
        patch.start()
    server = create_server(create_app(ROOT / "openapi.yaml", ROOT / "fixtures"), "127.0.0.1", 0)
    print(f"http://127.0.0.1:{server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    serve(sys.argv[1])
