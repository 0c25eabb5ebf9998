"""The `mockserver` command: `serve` the mock, or print a `token` for a fixture user."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import settings
from .app import create_app
from .auth import issue_token
from .fixtures import FixtureError, load_fixtures
from .serving import create_server
from .spec import SpecError

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


@click.group()
def main() -> None:
    """Mock server of the Mudbase chat API. The JWT secret is read from
    MOCKSERVER_JWT_SECRET, else a development default."""


@main.command()
@click.option("--host", default=settings.DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=settings.DEFAULT_PORT, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True, help="Worker threads.")
@spec_option
@fixtures_option
def serve(host: str, port: int, threads: int, spec: Path, fixtures: Path) -> None:
    """Serve the mock with a production WSGI server (waitress)."""
    try:
        app = create_app(spec, fixtures)
    except (SpecError, FixtureError) as exc:
        raise click.ClickException(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    try:
        server = create_server(app, host, port, threads)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    url = f"http://{host}:{server.effective_port}"
    startup = app.extensions["mockserver.startup"]
    for problem in startup["problems"]:
        click.echo(f"warning: {problem}", err=True)
    contract = app.extensions["mockserver.contract"]
    click.echo(f"Mudbase mock serving {spec} at {url}{contract.base_path}")
    click.echo(
        f"{len(contract.operations)} operations, {len(startup['problems'])} warnings (on stderr);"
        f" loaded in {startup['seconds']:.2f} s"
    )
    click.echo("Log in (POST /api/auth/login) as, or `mockserver token --user ID`:")
    for user in app.extensions["mockserver.store"].users.values():
        click.echo(f"  {user.id:<20} {user.email:<30} {user.password}")
    click.echo(f"Reset the state with: curl -X POST {url}/__mock/reset", nl=True)
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


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
def token(user_id: str, expires_in: int, fixtures: Path) -> None:
    """Print a signed JWT for a fixture user, and nothing else."""
    try:
        users = load_fixtures(fixtures).users
    except FixtureError as exc:
        raise click.ClickException(str(exc)) from None
    user = users.get(user_id)
    if user is None:
        known = ", ".join(users)
        raise click.BadParameter(f"{user_id!r} is not a fixture user (known: {known})", param_hint="--user")
    click.echo(issue_token(settings.jwt_secret(), user.id, user.email, expires_in))
