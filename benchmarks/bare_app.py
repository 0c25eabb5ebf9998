"""The floor the mock is measured against: a bare Flask + PyJWT app on the same routes,
answering the same statuses with small JSON bodies, with no spec validation, no state,
no Error envelope and no access log. Served by `bench.py` with the mock's WSGI server.
"""

from __future__ import annotations

import sys
import time

import jwt
from flask import Flask, jsonify, request

from mockserver import settings
from mockserver.server.serving import ConnectionLimits, create_server, listening_socket, serve_in_processes

CHAT = "/api/chat/projects/<project_id>/chats/<chat_id>"


def create_app() -> Flask:
    app = Flask(__name__)
    secret = settings.jwt_secret()

    def caller() -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})["sub"]
        except jwt.InvalidTokenError:
            return None

    def unauthorized():
        return jsonify(error="Authentication required", code="UNAUTHORIZED"), 401

    @app.post("/api/auth/login")
    def login():
        body = request.get_json(silent=True) or {}
        now = int(time.time())
        token = jwt.encode({"sub": "usr_morgan_de", "email": body.get("email"), "iat": now, "exp": now + 1800}, secret)
        return jsonify(message="Login successful", token=token, expiresIn=1800)

    @app.get(CHAT)
    def chat_details(project_id: str, chat_id: str):
        if caller() is None:
            return unauthorized()
        return jsonify(success=True, data={"_id": chat_id, "name": "Launch planning", "participants": []})

    @app.route(CHAT + "/participants", methods=["DELETE", "POST"])
    def participants(project_id: str, chat_id: str):
        if caller() is None:
            return unauthorized()
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("userId"), str):
            return jsonify(error="Validation failed", code="VALIDATION_ERROR", details={"userId": "required"}), 400
        if body["userId"] not in ("usr_CuXGNqCoY9JGW0", "usr_l6ZF362tQSr4nE"):
            return jsonify(error="Not a participant", code="NOT_A_PARTICIPANT"), 400
        return jsonify(message="Participant removed successfully")

    @app.route(CHAT + "/messages", methods=["GET", "POST"])
    def messages(project_id: str, chat_id: str):
        user = caller()
        if user is None:
            return unauthorized()
        if request.method == "GET":
            listed = [{"_id": "msg_1", "content": "Kick-off tomorrow", "sender": {"_id": user}}]
            return jsonify(success=True, data={"messages": listed, "total": 1})
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return jsonify(error="Validation failed", code="VALIDATION_ERROR", details={"type": "required"}), 400
        data = {"_id": "msg_2", "content": body.get("content"), "sender": user, "createdAt": "2026-11-28T09:30:00Z"}
        return jsonify(success=True, data=data), 201

    @app.post("/__mock/reset")
    def reset():
        return jsonify(message="State reset to fixtures")

    return app


if __name__ == "__main__":  # bare_app.py PORT [WORKERS]: served as `mockserver serve` serves the mock
    port, workers = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if workers > 1:
        sock = listening_socket("127.0.0.1", port)
        sys.exit(serve_in_processes(create_app(), sock, workers, ConnectionLimits()))
    create_server(create_app(), "127.0.0.1", port).run()
