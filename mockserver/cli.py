"""The `mockserver` command: `serve` the mock, `proxy` a real server with checks, print a
`token` for a fixture user, the `effective-spec` the mock serves for a document, or the
`resources` inferred from it."""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from mockserver import settings
from mockserver.behaviours import hand_written, served_contract
from mockserver.contract.index import SpecError
from mockserver.controls.faults import Latency
from mockserver.controls.steering import ControlOptions
from mockserver.pipeline.security.tokens import issue_token
from mockserver.pipeline.security.verification import ANY, MAX_KEY_FILE_BYTES, token_verification
from mockserver.pipeline.security.verification import MOCK as MOCK_MODE
from mockserver.resources.report import text
from mockserver.server import banner
from mockserver.server.app import create_app
from mockserver.server.deployment import LOOPBACK_HOSTS, is_loopback, safeguards
from mockserver.server.logs import configure_logging
from mockserver.server.reloading import Watcher
from mockserver.server.serving import ConnectionLimits, create_server, listening_socket, serve_in_processes
from mockserver.server.sharing import Shared
from mockserver.settings import SettingsError
from mockserver.store import DEFAULT_PREFIX, MEMORY, STATE_LIMITS_ENV, StateLimits, StoreError, open_store
from mockserver.store.fixtures import FixtureError, load_fixtures

spec_option = click.option(
    "--spec",
    type=click.Path(dir_okay=False, path_type=Path),
    default=settings.DEFAULT_SPEC,
    help="The OpenAPI contract to serve. Default: the one shipped with the mock.",
)
fixtures_option = click.option(
    "--fixtures",
    type=click.Path(file_okay=False, path_type=Path),
    default=settings.DEFAULT_FIXTURES,
    help="Folder with users.yaml and projects.yaml. Default: the ones shipped with the mock.",
)
max_token_lifetime_option = click.option(
    "--max-token-lifetime",
    type=click.IntRange(1),
    envvar=settings.MAX_TOKEN_LIFETIME_ENV,
    default=settings.MAX_TOKEN_LIFETIME_SECONDS,
    show_default=True,
    help=f"Seconds; tokens whose exp lies further ahead are refused. Env: {settings.MAX_TOKEN_LIFETIME_ENV}.",
)

# `mockserver --version`, and the same on each command.
version_option = click.version_option(package_name="mudbase-mock", prog_name="mockserver")


# -h as well as --help, on the group and (inherited) on each command.
@click.group(name="mockserver", context_settings={"help_option_names": ["-h", "--help"]})
@version_option
def main() -> None:
    """Mock server of the Mudbase chat API. The JWT secret is read from
    MOCKSERVER_JWT_SECRET (at least 32 bytes), else, on loopback only, a public
    development default."""


@main.command()
@version_option
@click.option("--host", default=settings.DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=settings.DEFAULT_PORT, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes serving the one port. With the state in memory, one more process holds it for them all.",
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
    help="A browser origin allowed besides localhost ones (any port), e.g. https://app.example.dev; repeat "
    "for more. Allowed origins are echoed with Access-Control-Allow-Credentials: true. "
    "Env: MOCKSERVER_CORS_ORIGINS (space-separated).",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Reload the fixtures (the state starts over) and the contract (the state is kept; the journal and "
    "fault rules start empty) when their files change; an edit that does not load is logged, and the last good "
    "version keeps serving.",
)
@click.option(
    "--rate-limit",
    help="Failed logins allowed per client address, e.g. 10/minute, or off. Default: off on loopback, "
    "10/minute elsewhere.",
)
@max_token_lifetime_option
@click.option(
    "--auth",
    envvar="MOCKSERVER_AUTH",
    default="mock",
    show_default=True,
    metavar="mock|any|jwks:FILE|pem:FILE",
    help="What bearer tokens (bearer, oauth2, openIdConnect schemes) pass: `mock`, the mock's own (HS256, its "
    "secret); `jwks:FILE` or `pem:FILE`, those of an identity provider too, verified with the public key their "
    f"kid names in a JWKS file, or the key of a PEM file (at most {MAX_KEY_FILE_BYTES // 1024} KiB); `any`, any "
    "token, unchecked (never with --shared). Env: MOCKSERVER_AUTH.",
)
@click.option(
    "--jwt-issuer",
    envvar="MOCKSERVER_JWT_ISSUER",
    help="With --auth jwks:/pem:, the `iss` a provider's token must have. Env: MOCKSERVER_JWT_ISSUER.",
)
@click.option(
    "--jwt-audience",
    envvar="MOCKSERVER_JWT_AUDIENCE",
    help="With --auth jwks:/pem:, the `aud` a provider's token must name. Env: MOCKSERVER_JWT_AUDIENCE.",
)
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
@click.option(
    "--latency",
    metavar="MS|MIN-MAX",
    help="Delay every API response (not /__mock) by MS milliseconds, or by a random time in MIN-MAX.",
)
@click.option(
    "--prefer-skips-auth",
    is_flag=True,
    help="A Prefer header (code=, example=, dynamic=) forces its answer without a valid token; "
    "by default authentication comes first.",
)
@click.option(
    "--journal-size",
    type=click.IntRange(0),
    default=500,
    show_default=True,
    help="API requests kept in the journal (GET /__mock/requests); 0 keeps none.",
)
@click.option("--seed", type=int, help="Seed of the random choices (--latency ranges, fault rule rates).")
@click.option(
    "--state-limits",
    metavar="NAME=N,...",
    envvar=STATE_LIMITS_ENV,
    help="The most the state holds, past which a change is a 400 LIMIT_EXCEEDED, e.g. "
    "messages_per_chat=500,state_bytes=16MiB (names and defaults: /__mock/state). Env: MOCKSERVER_STATE_LIMITS.",
)
def serve(
    host: str,
    port: int,
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
    auth: str,
    jwt_issuer: str | None,
    jwt_audience: str | None,
    max_connections: int,
    idle_timeout: float,
    header_timeout: float,
    body_timeout: float,
    request_timeout: float,
    latency: str | None,
    prefer_skips_auth: bool,
    journal_size: int,
    seed: int | None,
    state_limits: str | None,
    watch: bool,
) -> None:
    """Serve the mock on one event loop. POST /__mock/reset re-reads
    the fixture files; --watch reloads the contract and fixtures when they change. The
    document as served (repaired, plus the failures the mock sends that it declares no
    status for) is at GET /__mock/served-openapi.json; see also `mockserver effective-spec`.

    Force an answer with a Prefer request header (code=404, example=NAME, dynamic=true);
    add fault rules (delay, status, reset, empty) with POST /__mock/faults; read what
    clients sent at GET /__mock/requests; open the console at /__mock/. A forced status
    must be one the contract declares: to force a 500, serve a --spec that declares it."""
    if workers > 1 and watch:
        raise click.UsageError("--watch reloads one process: serve with --workers 1 to watch the files")
    shared = shared or not is_loopback(host)
    if auth == ANY and shared:
        raise click.UsageError(
            "--auth any lets any bearer token through, so a shared mock (--shared, or bound off loopback) refuses "
            "it; verify the tokens of your identity provider with --auth jwks:FILE or --auth pem:FILE"
        )
    try:
        delay = Latency.parse(latency) if latency else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--latency") from None
    try:
        limits = StateLimits.parse(state_limits)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--state-limits") from None
    options = ControlOptions(delay, journal_size, prefer_skips_auth, seed)
    sharing = None  # what the workers share, in a process of its own
    try:
        try:
            guards = safeguards(shared, host, admin_token, cors_origins, rate_limit, max_token_lifetime)
            secret = settings.jwt_secret(default_allowed=not shared)
            verification = token_verification(auth, jwt_issuer, jwt_audience)
            if workers > 1:
                memory = open_store(load_fixtures(fixtures), MEMORY, limits=limits) if store_url == MEMORY else None
                sharing = Shared(workers, seed, memory)
            app = create_app(
                spec,
                fixtures,
                secret,
                guards,
                options,
                sharing.store if sharing else None,
                store_url=store_url,
                store_prefix=store_prefix,
                limits=limits,
                auth=verification,
                shared=sharing,
            )
        except (SpecError, FixtureError, SettingsError, StoreError) as exc:
            raise click.ClickException(str(exc)) from None
        watcher = None
        if watch:
            watcher = Watcher(
                app,
                spec,
                fixtures,
                lambda store: create_app(spec, fixtures, secret, guards, options, store, auth=verification),
            )
        try:
            limits = ConnectionLimits(max_connections, idle_timeout, header_timeout, body_timeout, request_timeout)
            if workers > 1:
                sock = listening_socket(host, port)
                effective_port = sock.getsockname()[1]
            else:
                server = create_server(watcher.app if watcher else app, host, port, limits)
                effective_port = server.effective_port
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        url = f"http://{host}:{effective_port}"
        handler = _banner(app, spec, fixtures, url, shared, verification, workers, limits, sharing, watcher)
        # What start-up built lives as long as the mock: out of the collector's sight, a full
        # collection of openapi.yaml's app (107,000 objects) stops every thread for 70 ms,
        # the p99 of a load run (measured 2026-12-02). Forked workers inherit it frozen.
        gc.freeze()
        # Each loop writes the log lines of a pass at once (logs.py), a worker's after its fork.
        if workers > 1:
            sys.exit(serve_in_processes(app, sock, workers, limits, sharing.worker_started, handler.batch))
        server.after_pass = handler.batch()
        try:
            with _stopped_by_sigterm():  # so that the last lines of the log are written
                server.run()
        finally:
            if watcher:
                watcher.stop()
            server.close()
            handler.flush()
            logging.getLogger().removeHandler(handler)
    finally:
        if sharing:
            sharing.close()


def _banner(app, spec, fixtures, url, shared, verification, workers, limits, sharing, watcher) -> logging.Handler:
    """What the mock serves and how to call it, on stdout; its log's handler, installed."""
    startup = app.extensions["mockserver.startup"]
    for problem in startup["problems"]:
        click.echo(f"warning: {problem}", err=True)
    contract = app.extensions["mockserver.contract"]
    click.echo(banner.first_line(contract, spec, url, shared))
    click.echo(banner.document_line(contract))
    files = len(contract.source.files)
    click.echo(
        f"{len(contract.operations)} operations, {len(startup['problems'])} warnings (on stderr);"
        f"{f' {files} files bundled into one;' if files > 1 else ''} loaded in {startup['seconds']:.2f} s"
    )
    if not banner.is_mudbase(contract):  # the chat API's refusals are its behaviours' (docs/13-errors.md)
        click.echo(banner.refusal_line(contract))
    if verification.mode != MOCK_MODE:  # the default goes without saying
        click.echo(verification.describe())
    controls = app.extensions["mockserver.controls"]
    served = [r for r in controls.model.resources if r.name in controls.served] if controls.model else []
    kept = sum(len(resource.operations) for resource in served)
    if served:
        names = ", ".join(resource.name for resource in served[:8]) + (", ..." if len(served) > 8 else "")
        click.echo(
            f"State kept for {len(served)} inferred resources ({kept} operations: {names}); "
            f"GET /__mock/resources or `mockserver resources {spec}` says why the other operations are in none"
        )
    store = app.extensions["mockserver.store"]
    state = "in memory" if store.kind == MEMORY else f"in {store.health()['url']} under prefix {store.prefix!r}"
    if sharing and sharing.store:
        state += " (a process of its own, which every worker calls)"
    processes = f"{workers} processes, each" if workers > 1 else "1 process"
    click.echo(f"State {state}; {processes} with an event loop (at most {limits.max_connections} connections)")
    if sharing:
        click.echo("The workers share one journal, the fault rules, deletions and the rate limit")
    for line in banner.credential_lines(contract, store.users, fixtures, shared):
        click.echo(line)
    admin = '-H "Authorization: Bearer $MOCKSERVER_ADMIN_TOKEN" ' if shared else ""
    handler = configure_logging()
    if watcher:
        watcher.start()  # before the banner ends: a change made once it is printed is seen
        click.echo(f"Watching {spec} and {fixtures} for changes")
    click.echo(f"Reset the state with: curl -X POST {admin}-H 'Content-Type: application/json' {url}/__mock/reset")
    click.echo(f"Console (requests, state, fault rules): {url}/__mock/")
    sys.stdout.flush()
    return handler


@main.command()
@version_option
@click.option("--upstream", required=True, help="The server to check, e.g. https://staging.example.com.")
@click.option("--host", default=settings.DEFAULT_HOST, show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=4011, show_default=True)
@spec_option
@click.option(
    "--reject-invalid-requests",
    is_flag=True,
    help="Answer a request that breaks the contract with the mock's 400 VALIDATION_ERROR instead of forwarding it.",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports/proxy"),
    show_default=True,
    help="Where violations.json and violations-junit.xml are written, on exit and on POST /__mock/violations/report.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to connect to the upstream and between bytes of its answer; then a 504.",
)
@click.option(
    "--admin-token",
    envvar=settings.ADMIN_TOKEN_ENV,
    help=(
        "Bearer token /__mock/violations requires; required off loopback and with --shared. "
        f"Env: {settings.ADMIN_TOKEN_ENV}."
    ),
)
@click.option(
    "--shared",
    is_flag=True,
    help="Answer to any Host although bound to loopback (behind a reverse proxy); needs --admin-token.",
)
def proxy(
    upstream: str,
    host: str,
    port: int,
    spec: Path,
    reject_invalid_requests: bool,
    report_dir: Path,
    timeout: float,
    admin_token: str | None,
    shared: bool,
) -> None:
    """Validating proxy: forward to UPSTREAM, check every exchange against the contract.

    Requests and responses pass unchanged (plus X-Contract-Violations: N); what breaks
    the contract is listed at GET /__mock/violations and written to --report-dir (JSON
    and JUnit XML) on exit and on POST /__mock/violations/report."""
    from mockserver.proxy.forward import ProxySettings
    from mockserver.server.app import create_proxy_app
    from mockserver.settings import PROXY_MAX_BODY_BYTES

    shared = shared or not is_loopback(host)
    if shared and not admin_token:
        raise click.ClickException(
            f"--admin-token (or {settings.ADMIN_TOKEN_ENV}) is required off loopback and with --shared"
        )
    try:
        if admin_token:
            settings.check_secret("The admin token", admin_token)
        # On loopback only loopback names (no DNS rebinding); shared, the admin token guards.
        trusted = None if shared else LOOPBACK_HOSTS
        proxy_settings = ProxySettings(
            upstream, timeout, reject_invalid_requests, report_dir, admin_token, trusted_hosts=trusted
        )
        app = create_proxy_app(spec, proxy_settings)
    except (SpecError, SettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        server = create_server(app, host, port, max_body_bytes=PROXY_MAX_BODY_BYTES, waits=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    url = f"http://{host}:{server.effective_port}"
    contract = app.extensions["mockserver.contract"]
    violations = app.extensions["mockserver.violations"]
    click.echo(
        f"Validating proxy at {url} -> {upstream}, checking against {spec} ({len(contract.operations)} operations)"
    )
    click.echo(f"Violations: curl {url}/__mock/violations; reports in {report_dir} on exit")
    sys.stdout.flush()
    handler = configure_logging()
    try:
        with _stopped_by_sigterm():  # so that the reports get written
            server.run()
    finally:
        server.close()
        json_path, junit_path = violations.write_reports(report_dir)
        logging.getLogger("mockserver.proxy").info("%s; reports: %s, %s", violations.summary(), json_path, junit_path)
        logging.getLogger().removeHandler(handler)


@main.command()
@version_option
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


@main.command("effective-spec")
@version_option
@click.argument("spec", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def effective_spec(spec: Path) -> None:
    """Print, as JSON, the document the mock serves for SPEC (what GET /__mock/served-openapi.json
    answers): repaired, plus the failures it declares no status for; a warning each on stderr."""
    try:
        contract, _, _ = served_contract(spec)
    except SpecError as exc:
        raise click.ClickException(str(exc)) from None
    for problem in contract.problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(json.dumps(contract.document, ensure_ascii=False, indent=2))


@main.command()
@version_option
@click.argument("spec", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="The model as JSON, as GET /__mock/resources answers it.")
def resources(spec: Path, as_json: bool) -> None:
    """Print the resources inferred from SPEC (what GET /__mock/resources answers): each
    item path with its collection, id, schema, scope and operations by role, every
    operation in none grouped by the rule that did not apply; each with its reason."""
    try:
        contract, model, served = served_contract(spec)
    except SpecError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        # As GET /__mock/resources: with the resources kept and the operations hand-written.
        document = {
            **model.document(),
            "served": [resource.name for resource in served],
            "handWritten": sorted(hand_written(contract)),
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        click.echo(text(model, str(spec)))


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """`kill` (SIGTERM) ends what runs inside as Ctrl-C does (the KeyboardInterrupt ends it
    quietly); what SIGTERM did before is put back after."""

    def interrupt(_signum, _frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
