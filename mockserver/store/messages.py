"""Rules of a chat's messages: sending, reading, editing, deleting, reactions.

Every rule needs the caller to take part in the chat: to anyone else, the chat
does not exist.
"""

from __future__ import annotations

import secrets
from datetime import datetime

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
                    "REPLY_NOT_FOUND", "Invalid message", f"replyTo {reply_to} is not a message of chat {chat_id}"
                )
            message = MessageRecord(
                id="msg_" + secrets.token_urlsafe(12),
                sender_id=caller_id,
                type=message_type,
                created_at=self.now(),
                content=content if e2ee is None else None,
                e2ee=e2ee,
                reply_to=reply_to,
                mentions=list(dict.fromkeys(mentions)),
            )
            chat.messages[message.id] = message
            return message.snapshot()

    def mark_read(self, project_id: str, chat_id: str, caller_id: str, message_ids: list[str]) -> int:
        """Marks the caller's unread messages among `message_ids` as read; how many there were."""
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            marked = 0
            for message_id in dict.fromkeys(message_ids):
                message = chat.messages.get(message_id)
                if message is not None and message.unread_by(caller_id):
                    message.read_by.append(caller_id)
                    marked += 1
            return marked

    def edit_message(
        self, project_id: str, chat_id: str, message_id: str, caller_id: str, content: str | None, e2ee: dict | None
    ) -> MessageRecord:
        with self._lock:
            message = self._message(self._visible_chat(project_id, chat_id, caller_id), message_id)
            if message.sender_id != caller_id:
                raise RuleViolation("FORBIDDEN", "Access denied", "Only the author may edit a message", "forbidden")
            if message.e2ee is not None:
                if e2ee is None:
                    raise RuleViolation(
                        "E2EE_REQUIRED", "Invalid edit", "An end-to-end encrypted message is edited with `e2ee`"
                    )
                message.e2ee = e2ee
            else:
                if content is None:
                    raise RuleViolation(
                        "CONTENT_REQUIRED", "Invalid edit", "A plaintext message is edited with `content`"
                    )
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

    def add_reaction(
        self, project_id: str, chat_id: str, message_id: str, caller_id: str, emoji: str
    ) -> dict[str, list[str]]:
        """The caller reacts with `emoji` (once: again changes nothing); the message's reactions."""
        with self._lock:
            message = self._message(self._visible_chat(project_id, chat_id, caller_id), message_id)
            users = message.reactions.setdefault(emoji, [])
            if caller_id not in users:
                users.append(caller_id)
            return {emoji: list(users) for emoji, users in message.reactions.items()}

    def remove_reaction(
        self, project_id: str, chat_id: str, message_id: str, caller_id: str, emoji: str
    ) -> dict[str, list[str]]:
        """The caller's reaction with `emoji` is gone, others' stay; the message's reactions."""
        with self._lock:
            message = self._message(self._visible_chat(project_id, chat_id, caller_id), message_id)
            users = message.reactions.get(emoji, [])
            if caller_id in users:
                users.remove(caller_id)
                if not users:
                    del message.reactions[emoji]
            return {emoji: list(users) for emoji, users in message.reactions.items()}
