"""The `mockserver` command: `serve` the mock, or print a `token` for a fixture user."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import settings
from .app import create_app
from .auth import issue_token
from .deployment import is_loopback, safeguards
from .fixtures import FixtureError, load_fixtures
from .logs import configure_logging
from .serving import ConnectionLimits, create_server, listening_socket, serve_in_processes
from .settings import SettingsError
from .spec import SpecError
from .store import DEFAULT_PREFIX, MEMORY, StoreError

spec_option = click.option(
    "--spec",
    type=click.Path(dir_okay=False, path_type=Path),
    default=settings.DEFAULT_SPEC,
    show_default=True,
    help="The OpenAPI contract to serve.",
)
fixtures_option = click.option(
    "--fixtures",
    type=click.Path(file_okay=False, path_type=Path),
    default=settings.DEFAULT_FIXTURES,
    show_default=True,
    help="Folder with users.yaml and projects.yaml.",
)
max_token_lifetime_option = click.option(
    "--max-token-lifetime",
    type=click.IntRange(1),
    envvar=settings.MAX_TOKEN_LIFETIME_ENV,
    default=settings.MAX_TOKEN_LIFETIME_SECONDS,
    show_default=True,
    help=f"Seconds; tokens whose exp lies further ahead are refused. Env: {settings.MAX_TOKEN_LIFETIME_ENV}.",
)


@click.group()
def main() -> None:
    """Mock server of the Mudbase chat API. The JWT secret is read from
    MOCKSERVER_JWT_SECRET (at least 32 bytes), else, on loopback only, a public
    development default."""


@main.command()
@click.option("--host", default=settings.DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=settings.DEFAULT_PORT, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True, help="Worker threads.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes serving the one port; more than one needs a shared --store.",
)
@click.option(
    "--store",
    "store_url",
    envvar="MOCKSERVER_STORE",
    default=MEMORY,
    show_default=True,
    help="Where the state lives: `memory` (this process), or redis://HOST:PORT/DB, shared by every "
    "process and replica using it. Env: MOCKSERVER_STORE.",
)
@click.option(
    "--store-prefix",
    envvar="MOCKSERVER_STORE_PREFIX",
    default=DEFAULT_PREFIX,
    show_default=True,
    help="Key prefix of the state in Redis; mocks with one prefix share a state. Env: MOCKSERVER_STORE_PREFIX.",
)
@spec_option
@fixtures_option
@click.option(
    "--shared",
    is_flag=True,
    help="Guard the mock as a shared service although bound to loopback (e.g. behind a reverse proxy).",
)
@click.option(
    "--admin-token",
    envvar=settings.ADMIN_TOKEN_ENV,
    help=f"Bearer token the /__mock routes require; required off loopback. Env: {settings.ADMIN_TOKEN_ENV}.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    envvar="MOCKSERVER_CORS_ORIGINS",
    help="A browser origin allowed besides localhost ones, e.g. https://app.example.dev; repeat for more. "
    "Default: any origin on loopback. Env: MOCKSERVER_CORS_ORIGINS (space-separated).",
)
@click.option(
    "--rate-limit",
    help="Failed logins allowed per client address, e.g. 10/minute, or off. Default: off on loopback, "
    "10/minute elsewhere.",
)
@max_token_lifetime_option
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=settings.MAX_CONNECTIONS,
    show_default=True,
    help="Open connections at once; more wait to be accepted.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0.1),
    default=settings.IDLE_TIMEOUT,
    show_default=True,
    help="Seconds a kept-alive connection may wait for its next request.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0.1),
    default=settings.HEADER_TIMEOUT,
    show_default=True,
    help="Seconds from a request's first byte to the end of its headers.",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(min=0.1),
    default=settings.BODY_TIMEOUT,
    show_default=True,
    help="Seconds from the end of a request's headers to the end of its body.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0.1),
    default=settings.REQUEST_TIMEOUT,
    show_default=True,
    help="Seconds from a request's first byte to its answer; a connection past any of these is closed.",
)
def serve(
    host: str,
    port: int,
    threads: int,
    workers: int,
    store_url: str,
    store_prefix: str,
    spec: Path,
    fixtures: Path,
    shared: bool,
    admin_token: str | None,
    cors_origins: tuple[str, ...],
    rate_limit: str | None,
    max_token_lifetime: int,
    max_connections: int,
    idle_timeout: float,
    header_timeout: float,
    body_timeout: float,
    request_timeout: float,
) -> None:
    """Serve the mock with a production WSGI server (waitress)."""
    if workers > 1 and store_url == MEMORY:
        raise click.UsageError(
            f"--workers {workers} needs a shared store: in memory, each process would have its own chats "
            "and sessions and contradict the others. Add --store redis://HOST:PORT/DB, or serve one process"
        )
    shared = shared or not is_loopback(host)
    try:
        guards = safeguards(shared, host, admin_token, cors_origins, rate_limit, max_token_lifetime)
        secret = settings.jwt_secret(default_allowed=not shared)
        app = create_app(spec, fixtures, secret, guards, store_url, store_prefix)
    except (SpecError, FixtureError, SettingsError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        limits = ConnectionLimits(max_connections, idle_timeout, header_timeout, body_timeout, request_timeout)
        if workers > 1:
            sock = listening_socket(host, port)
            effective_port = sock.getsockname()[1]
        else:
            server = create_server(app, host, port, threads, limits)
            effective_port = server.effective_port
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    url = f"http://{host}:{effective_port}"
    startup = app.extensions["mockserver.startup"]
    for problem in startup["problems"]:
        click.echo(f"warning: {problem}", err=True)
    contract = app.extensions["mockserver.contract"]
    click.echo(f"Mudbase mock serving {spec} at {url}{contract.base_path}" + (" (shared)" if shared else ""))
    click.echo(
        f"{len(contract.operations)} operations, {len(startup['problems'])} warnings (on stderr);"
        f" loaded in {startup['seconds']:.2f} s"
    )
    store = app.extensions["mockserver.store"]
    state = "in memory" if store.kind == MEMORY else f"in {store.health()['url']} under prefix {store.prefix!r}"
    click.echo(f"State {state}; {workers} process{'es' if workers > 1 else ''} of {threads} threads")
    users = store.users.values()
    if shared:
        # Stdout ends up in the deployment's logs: no passwords there.
        click.echo(f"Log in (POST /api/auth/login) with a user of {fixtures}/users.yaml, or get a token with")
        click.echo(f"`mockserver token --user ID` and the same {settings.JWT_SECRET_ENV}. Users:")
        for user in users:
            click.echo(f"  {user.id:<20} {user.email}")
        admin = '-H "Authorization: Bearer $MOCKSERVER_ADMIN_TOKEN" '
    else:
        click.echo("Log in (POST /api/auth/login) as, or `mockserver token --user ID`:")
        for user in users:
            click.echo(f"  {user.id:<20} {user.email:<30} {user.password}")
        admin = ""
    click.echo(f"Reset the state with: curl -X POST {admin}-H 'Content-Type: application/json' {url}/__mock/reset")
    sys.stdout.flush()
    handler = configure_logging()
    if workers > 1:
        sys.exit(serve_in_processes(app, sock, workers, threads, limits))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        logging.getLogger().removeHandler(handler)


@main.command()
@click.option("--user", "user_id", required=True, help="A fixture user's ID, e.g. usr_morgan_de.")
@click.option(
    "--expires-in",
    type=int,
    default=settings.TOKEN_LIFETIME_SECONDS,
    show_default=True,
    help="Lifetime in seconds; a negative value gives an already expired token.",
)
@fixtures_option
@max_token_lifetime_option
def token(user_id: str, expires_in: int, fixtures: Path, max_token_lifetime: int) -> None:
    """Print a signed JWT for a fixture user, and nothing else."""
    if expires_in > max_token_lifetime:
        raise click.BadParameter(
            f"the mock refuses tokens that live longer than {max_token_lifetime} s (--max-token-lifetime)",
            param_hint="--expires-in",
        )
    try:
        users = load_fixtures(fixtures).users
        secret = settings.jwt_secret()
    except (FixtureError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None
    user = users.get(user_id)
    if user is None:
        known = ", ".join(users)
        raise click.BadParameter(f"{user_id!r} is not a fixture user (known: {known})", param_hint="--user")
    click.echo(issue_token(secret, user.id, user.email, expires_in))
