"""Rules of a chat's messages: sending, reading, editing, deleting, reactions.

Every rule needs the caller to take part in the chat: to anyone else, the chat
does not exist. A message mentions participants of its chat only, and what the rules
add stays within the state's budget (budget.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from mockserver.store.budget import (
    ITEM_BYTES,
    json_text_bytes,
    message_body_bytes,
    message_bytes,
    reaction_bytes,
    text_bytes,
)
from mockserver.store.records import MessageRecord, RuleViolation


class MessageRules:
    def messages(
        self,
        project_id: str,
        chat_id: str,
        caller_id: str,
        *,
        before: datetime | None,
        after: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[list[MessageRecord], int]:
        """One page of the messages created strictly between `after` and `before`,
        newest first, and how many there are on all pages."""
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            page, total = self._messages_between(chat, after=after, before=before, offset=offset, limit=limit)
            return [message.snapshot() for message in page], total

    def send_message(
        self,
        project_id: str,
        chat_id: str,
        caller_id: str,
        *,
        message_type: str,
        content: str | None,
        e2ee: dict | None,
        reply_to: str | None,
        mentions: list[str],
    ) -> MessageRecord:
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            if e2ee is not None and message_type != "text":
                details = f"Only text messages are end-to-end encrypted, not {message_type}"
                raise RuleViolation("E2EE_TEXT_ONLY", "Invalid message", details)
            # An E2EE message carries its text in the ciphertext; its `content` is dropped.
            if not (e2ee.get("ciphertext") if e2ee is not None else content):
                details = "An end-to-end encrypted message needs e2ee.ciphertext" if e2ee else "A message needs content"
                raise RuleViolation("EMPTY_MESSAGE", "Invalid message", details)
            if reply_to is not None and reply_to not in chat.messages:
                raise RuleViolation(
                    "REPLY_NOT_FOUND",
                    "Invalid message",
                    f"replyTo {_shown(reply_to)} is not a message of chat {chat_id}",
                )
            mentions = list(dict.fromkeys(mentions))
            self._require_within(
                len(mentions), self.limits.mentions_per_message, "mentions_per_message", "Users the message mentions"
            )
            strangers = [user for user in mentions if user not in chat.participants]
            if strangers:
                raise RuleViolation(
                    "INVALID_MENTIONS",
                    "Invalid message",
                    f"A message mentions participants of its chat only; {_shown(strangers[0])} "
                    f"is not one of chat {chat_id}",
                )
            self._require_body_within(content if e2ee is None else None, e2ee)
            self._require_within(
                len(chat.messages) + 1,
                self.limits.messages_per_chat,
                "messages_per_chat",
                f"Messages in chat {chat_id}",
            )
            message = MessageRecord(
                id="msg_" + secrets.token_urlsafe(12),
                sender_id=caller_id,
                type=message_type,
                created_at=self.now(),
                content=content if e2ee is None else None,
                e2ee=e2ee,
                reply_to=reply_to,
                mentions=mentions,
            )
            self._spend(message_bytes(message), chat)
            chat.messages[message.id] = message
            return message.snapshot()

    def mark_read(self, project_id: str, chat_id: str, caller_id: str, message_ids: list[str]) -> int:
        """Marks the caller's unread messages among `message_ids` as read; how many there were."""
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            unread = [
                message
                for message in map(chat.messages.get, dict.fromkeys(message_ids))
                if message is not None and message.unread_by(caller_id)
            ]
            self._spend(ITEM_BYTES * len(unread), chat)
            for message in unread:
                message.read_by.append(caller_id)
            return len(unread)

    def edit_message(
        self, project_id: str, chat_id: str, message_id: str, caller_id: str, content: str | None, e2ee: dict | None
    ) -> MessageRecord:
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            message = self._message(chat, message_id)
            if message.sender_id != caller_id:
                raise RuleViolation("FORBIDDEN", "Access denied", "Only the author may edit a message", "forbidden")
            if message.e2ee is not None:
                if e2ee is None:
                    raise RuleViolation(
                        "E2EE_REQUIRED", "Invalid edit", "An end-to-end encrypted message is edited with `e2ee`"
                    )
                content = None
            else:
                if content is None:
                    raise RuleViolation(
                        "CONTENT_REQUIRED", "Invalid edit", "A plaintext message is edited with `content`"
                    )
                e2ee = None
            self._require_body_within(content, e2ee)
            was = message_body_bytes(message.content, message.e2ee)
            self._spend(message_body_bytes(content, e2ee) - was, chat)
            if e2ee is not None:
                message.e2ee = e2ee
            else:
                message.content = content
            message.edited_at = self.now()
            return message.snapshot()

    def delete_message(self, project_id: str, chat_id: str, message_id: str, caller_id: str) -> None:
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            message = self._message(chat, message_id)
            if message.sender_id != caller_id and chat.participants[caller_id].role != "admin":
                raise RuleViolation(
                    "FORBIDDEN", "Access denied", "Only the author or a chat admin may delete a message", "forbidden"
                )
            del chat.messages[message_id]
            self._spend(-message_bytes(message), chat)

    def add_reaction(
        self, project_id: str, chat_id: str, message_id: str, caller_id: str, emoji: str
    ) -> dict[str, list[str]]:
        """The caller reacts with `emoji` (once: again changes nothing); the message's reactions."""
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            message = self._message(chat, message_id)
            users = message.reactions.get(emoji)
            if users is None:
                self._require_within(
                    len(message.reactions) + 1,
                    self.limits.reactions_per_message,
                    "reactions_per_message",
                    f"Distinct reactions on message {message_id}",
                )
                self._spend(reaction_bytes(emoji, [caller_id]), chat)
                message.reactions[emoji] = [caller_id]
            elif caller_id not in users:
                self._spend(ITEM_BYTES, chat)
                users.append(caller_id)
            return {emoji: list(users) for emoji, users in message.reactions.items()}

    def remove_reaction(
        self, project_id: str, chat_id: str, message_id: str, caller_id: str, emoji: str
    ) -> dict[str, list[str]]:
        """The caller's reaction with `emoji` is gone, others' stay; the message's reactions."""
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            message = self._message(chat, message_id)
            users = message.reactions.get(emoji, [])
            if caller_id in users:
                users.remove(caller_id)
                freed = ITEM_BYTES
                if not users:
                    del message.reactions[emoji]
                    freed = reaction_bytes(emoji, [caller_id])
                self._spend(-freed, chat)
            return {emoji: list(users) for emoji, users in message.reactions.items()}

    def _require_body_within(self, content: str | None, e2ee: dict | None) -> None:
        if e2ee is not None:
            self._require_text_within(json_text_bytes(e2ee), "The e2ee payload (as JSON)")
        else:
            self._require_text_within(text_bytes(content), "The content")


def _shown(text: str) -> str:
    """A client's text in a message of ours: at most 64 characters of it."""
    return text if len(text) <= 64 else text[:61] + "..."
