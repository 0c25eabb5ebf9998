"""Rules of sessions: a login opens one, a refresh token works once and rotates,
reuse of a spent refresh token or a logout ends the session. Sessions, and the refresh
tokens kept to detect reuse, count against the state's budget (budget.py)."""

from __future__ import annotations

import secrets
import time

from mockserver.store.budget import REFRESH_TOKEN_BYTES, SESSION_BYTES, SESSIONS
from mockserver.store.records import RuleViolation, Session

REFRESH_TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600


def _invalid_refresh_token(details: str) -> RuleViolation:
    return RuleViolation("INVALID_REFRESH_TOKEN", "Invalid or expired refresh token", details, "forbidden")


class SessionRules:
    # A number every ending of a session counts up (a shared one, for the workers that
    # cache which sessions have not ended: state_process.py), or None.
    endings = None

    def open_session(self, user_id: str, when: str) -> tuple[str, str]:
        """A login: the new session's ID and its first refresh token."""
        session_id = "ses_" + secrets.token_urlsafe(12)
        refresh_token = "rt_" + secrets.token_urlsafe(32)
        with self._lock:
            self._count_new_session()
            self._sessions[session_id] = Session(user_id, refresh_token, time.time() + REFRESH_TOKEN_LIFETIME_SECONDS)
            self._refresh_tokens[refresh_token] = session_id
            self._last_login[user_id] = when
        return session_id, refresh_token

    def rotate_refresh_token(self, refresh_token: str) -> tuple[str, str, str]:
        """(session ID, user ID, next refresh token) for a refresh token that is the
        session's current one; a spent one ends its session (reuse detection)."""
        with self._lock:
            session_id = self._refresh_tokens.get(refresh_token)
            session = self._sessions.get(session_id) if session_id else None
            if session is None:
                raise _invalid_refresh_token("The refresh token is unknown")
            if session.revoked:
                raise _invalid_refresh_token("The session of this refresh token has ended")
            if session.refresh_token != refresh_token:
                self._end(session)
                raise _invalid_refresh_token("The refresh token was used already; its session is now ended")
            if time.time() > session.refresh_expires_at:
                raise _invalid_refresh_token("The refresh token has expired")
            self._spend(REFRESH_TOKEN_BYTES)
            session.refresh_token = "rt_" + secrets.token_urlsafe(32)
            session.refresh_expires_at = time.time() + REFRESH_TOKEN_LIFETIME_SECONDS
            self._refresh_tokens[session.refresh_token] = session_id
            return session_id, session.user_id, session.refresh_token

    def end_session(self, session_id: str, user_id: str) -> None:
        """Logout: the session's access and refresh tokens stop working. A session the
        store does not know (a token from `mockserver token`) is recorded as ended."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                self._count_new_session()
                session = self._sessions[session_id] = Session(user_id, None, 0.0)
            self._end(session)

    def session_ended(self, session_id: str) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            return session is not None and session.revoked

    def _end(self, session: Session) -> None:
        session.revoked = True
        if self.endings is not None:
            self.endings.value += 1

    def last_login(self, user_id: str) -> str | None:
        with self._lock:
            return self._last_login.get(user_id)

    def _count_new_session(self) -> None:
        """Make room for one more session, or refuse it (LIMIT_EXCEEDED)."""
        sessions = self._usage.value(SESSIONS)
        self._require_within(sessions + 1, self.limits.sessions, "sessions", "Sessions")
        self._spend(SESSION_BYTES)
        self._usage.add(SESSIONS, 1)
