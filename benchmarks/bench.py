"""The mock side by side with Stoplight Prism and a bare Flask + PyJWT app: `make bench`.

The mock runs three ways: as `make mock` runs it (`mock`: one process, its state in
memory), with `--workers N` (`mock-xN`: N processes on one port, the state in memory in a
process of its own, as `make mock WORKERS=N` runs it), and in Redis with `--workers N`
(`redis-xN`, when Debian's redis-server is installed: the bench starts its own). The bare
app runs as one process (`bare`) and as N (`bare-xN`), on the same server and process
model. All serve on 127.0.0.1 at once. For each scenario, every round loads each of them
in turn with wrk (a compiled load generator: no Python client competing for the cores),
rotating the order from round to round, so that a busy machine slows all of them alike.
It prints one table (req/s, p50, p99 per target, the mocks' ratios to Prism and to the
bare app, 5xx and socket errors), then start-up time and memory of each, the latency the
validating proxy (`mockserver proxy`) adds in front of the mock, and the mock's memory
before and after a long run. Figures, not assertions: nothing here fails on a timing.

Prism (@stoplight/prism-cli, pinned) is installed by npm into benchmarks/.prism when
node is present; wrk comes from Debian's packages (installed when running as root).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The newest Prism whose declared engines include Debian's node 20 (5.15 and later want node 24).
PRISM_VERSION = "5.14.2"
PRISM_DIR = ROOT / "benchmarks" / ".prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
MOCKS = ("mock", "redis")  # mock, mock-xN (memory; one process, N workers), redis-xN (Redis, N workers)
# The sends of a round stay below the state budget's limits (2,000 messages in a chat, 10,000
# sessions by default): a round measures sends and logins, not their refusals.
BENCH_LIMITS = "messages_per_chat=1000000,sessions=1000000,items=1000000,state_bytes=1GiB"
# The inferred resources' scenarios: a Petstore-like document, the mocks and Prism on it.
RESOURCE_SPEC = ROOT / "tests" / "specs" / "petstore.yaml"
PROJECT, CHAT = "proj_CE5hbCg5EPjP", "VL0TZudKjN6SiWtV"
MORGAN, SAM = "usr_morgan_de", "usr_l6ZF362tQSr4nE"
LOGIN = {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}
WAIT_SECONDS = 60  # for a server to answer, or npm to install


@dataclass
class Scenario:
    name: str
    requests: list[tuple[str, str, dict[str, str], str | None]]  # method, path, headers, body; sent in turn
    expected: set[int]  # the mock's and the bare app's statuses; Prism answers from examples
    reset: bool = False  # reset the mock's state before each round


@dataclass
class Target:
    name: str
    process: subprocess.Popen
    url: str
    started_in: float
    rss_mib: Callable[[], float] = field(repr=False)


# --- scenarios -----------------------------------------------------------------------


def operation_paths(spec: Path) -> dict[str, tuple[str, str, dict]]:
    """operationId -> (method, path with the fixture IDs, operation)."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    found = {}
    for template, item in document["paths"].items():
        path = template.replace("{projectId}", PROJECT).replace("{chatId}", CHAT)
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def body_example(operation: dict) -> str | None:
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return json.dumps(media["example"]) if "example" in media else None


def scenarios(spec: Path, token: str) -> list[Scenario]:
    ops = operation_paths(spec)
    auth = {"Authorization": f"Bearer {token}"}
    as_json = {"Content-Type": "application/json"}
    _, participants, _ = ops["removeParticipant"]
    found = [
        Scenario(
            "removeParticipant 400 (rule)",
            [("DELETE", participants, {**auth, **as_json}, '{"userId": "usr_nobody"}')],
            {400},
        ),
        Scenario(
            "removeParticipant 200 (+ add back)",
            [
                ("DELETE", participants, {**auth, **as_json}, json.dumps({"userId": SAM})),
                ("POST", participants, {**auth, **as_json}, json.dumps({"userId": SAM})),
            ],
            {200, 400},  # 16 connections race on one participant: some find it removed already
            reset=True,
        ),
        Scenario("getChatDetails 200", [("GET", ops["getChatDetails"][1], auth, None)], {200}),
        Scenario("loginUser 200", [("POST", ops["loginUser"][1], as_json, json.dumps(LOGIN))], {200}),
        Scenario("401 no token", [("DELETE", participants, as_json, json.dumps({"userId": SAM}))], {401}),
        Scenario("400 validation", [("DELETE", participants, {**auth, **as_json}, "{}")], {400}),
    ]
    # Sending grows the chat: each round starts from the fixtures, so rounds compare alike.
    for operation_id, status, reset in (("sendMessage", 201, True), ("getChatMessages", 200, False)):
        method, path, operation = ops[operation_id]
        body = body_example(operation) if method in ("POST", "PUT", "PATCH") else None
        headers = {**auth, **as_json} if body else auth
        found.append(Scenario(f"{operation_id} {status}", [(method, path, headers, body)], {status}, reset=reset))
    return found


def resource_scenarios(token: str) -> list[Scenario]:
    """Create, read and list of a resource the mock infers from RESOURCE_SPEC (no behaviour written for it)."""
    auth = {"Authorization": f"Bearer {token}"}
    as_json = {**auth, "Content-Type": "application/json"}
    pet = json.dumps({"name": "Rex", "photoUrls": [], "status": "pending"})
    return [
        Scenario("addPet 200 (inferred create)", [("POST", "/api/v3/pet", as_json, pet)], {200}, reset=True),
        # From the seeds (the document's examples), as Prism answers from them: not from the
        # thousands of pets the creates left (a list reads every item of its collection).
        Scenario("getPetById 200 (inferred read)", [("GET", "/api/v3/pet/10", auth, None)], {200}, reset=True),
        Scenario(
            "findPetsByStatus 200 (inferred list)",
            [("GET", "/api/v3/pet/findByStatus", auth, None)],
            {200},
            reset=True,
        ),
    ]


# --- the servers ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/__bench_probe", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer: it is up
    except OSError:
        return False


def process_tree_rss_mib(pid: int) -> float:
    """RSS of a process and its children (Prism's node may fork), in MiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        pending.extend(int(child) for child in children)
    return total / 1024


def start(name: str, command: list[str], port: int, env: dict[str, str]) -> Target:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = started + WAIT_SECONDS
    while not answers(url):
        if process.poll() is not None or time.perf_counter() > deadline:
            process.kill()
            raise SystemExit(f"{name} did not start: {' '.join(command)}")
        time.sleep(0.05)
    return Target(name, process, url, time.perf_counter() - started, lambda: process_tree_rss_mib(process.pid))


def stop(target: Target) -> None:
    target.process.terminate()
    try:
        target.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        target.process.kill()
        target.process.wait(timeout=10)


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """A throw-away redis-server (no persistence) for the Redis-backed mocks; its URL,
    or None when it is not installed."""
    program = shutil.which("redis-server")
    if program is None:
        print("redis-server not found (apt-get install redis-server): the Redis-backed mock is left out")
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = [program, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory]
        process = subprocess.Popen(
            [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def start_targets(args, env, redis_url: str | None) -> dict[str, Target]:
    python = sys.executable
    workers = str(args.workers)
    targets = {}
    serve = [str(Path(python).with_name("mockserver")), "serve", "--state-limits", BENCH_LIMITS]
    variants = [("mock", []), (f"mock-x{workers}", ["--workers", workers])]
    if redis_url:
        store = ["--store", redis_url, "--store-prefix", "bench-workers"]
        variants.append((f"redis-x{workers}", [*store, "--workers", workers]))
    for name, options in variants:
        port = free_port()
        targets[name] = start(name, [*serve, "--port", str(port), *options], port, env)
    for name, processes in (("bare", "1"), (f"bare-x{workers}", workers)):
        port = free_port()
        targets[name] = start(name, [python, "benchmarks/bare_app.py", str(port), processes], port, env)
    if prism_installed():
        port = free_port()
        command = [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(args.spec)]
        targets["prism"] = start("prism", command, port, env)
    return targets


def prism_installed() -> bool:
    package = PRISM_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    if PRISM_BIN.exists() and json.loads(package.read_text())["version"] == PRISM_VERSION:
        return True
    if not shutil.which("node") or not shutil.which("npm"):
        print("node/npm not found: Prism is left out")
        return False
    print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {PRISM_DIR.relative_to(ROOT)} ...", flush=True)
    PRISM_DIR.mkdir(exist_ok=True)
    npm = ["npm", "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run([*npm, f"@stoplight/prism-cli@{PRISM_VERSION}"], check=True, timeout=10 * WAIT_SECONDS)
    return PRISM_BIN.exists()


def wrk_available() -> bool:
    if shutil.which("wrk"):
        return True
    command = "apt-get update && apt-get install -y wrk"
    if os.geteuid() != 0:
        print(f"wrk not found; install it with: sudo sh -c '{command}'. Skipping the load runs.")
        return False
    print(f"wrk not found; running: {command}", flush=True)
    subprocess.run(["sh", "-c", command], check=True, timeout=10 * WAIT_SECONDS, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") is not None


# --- load ----------------------------------------------------------------------------

LUA = """
local threads = {}
local expected = {%(expected)s}
function setup(thread) table.insert(threads, thread) end
function init(args)
  fivexx, unexpected, twoxx, sent = 0, 0, 0, 0
  prepared = {%(requests)s}
end
function request()
  sent = sent + 1
  return prepared[(sent - 1) %% #prepared + 1]
end
function response(status, headers, body)
  if status >= 500 then fivexx = fivexx + 1 end
  if status < 300 then twoxx = twoxx + 1 end
  if not expected[status] then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local f, u, t = 0, 0, 0
  for _, thread in ipairs(threads) do
    f = f + thread:get("fivexx"); u = u + thread:get("unexpected"); t = t + thread:get("twoxx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "socket_errors": %%d,' ..
    ' "timeouts": %%d, "fivexx": %%d, "unexpected": %%d, "twoxx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write, e.timeout, f, u, t))
end
"""


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for this ASCII text


def lua_script(scenario: Scenario, expected: set[int] | None) -> str:
    requests = ", ".join(
        f"wrk.format({lua_string(method)}, {lua_string(path)}, {{"
        + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        + f"}}, {lua_string(body) if body is not None else 'nil'})"
        for method, path, headers, body in scenario.requests
    )
    expected_statuses = ", ".join(f"[{status}] = true" for status in sorted(expected)) if expected else ""
    return LUA % {"requests": requests, "expected": expected_statuses}


def run_wrk(url: str, script: Path, seconds: float, connections: int, threads: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return json.loads(line.removeprefix("BENCH "))


def post(url: str) -> None:
    request = urllib.request.Request(url, method="POST", data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass


# --- report --------------------------------------------------------------------------


def summary(rounds: list[dict]) -> dict:
    seconds = sum(r["duration_us"] for r in rounds) / 1e6
    total = sum(r["requests"] for r in rounds)
    return {
        "rps": total / seconds,
        "p50": statistics.median(r["p50_us"] for r in rounds) / 1000,
        "p99": statistics.median(r["p99_us"] for r in rounds) / 1000,
        "fivexx": sum(r["fivexx"] for r in rounds),
        "socket": sum(r["socket_errors"] + r["timeouts"] for r in rounds),
        "unexpected": sum(r["unexpected"] for r in rounds),
        "ok": sum(r["twoxx"] for r in rounds) / max(total, 1),
    }


def ratios(present: list[str]) -> list[tuple[str, str]]:
    """(mock, other) pairs the table gives as req/s ratios: each mock in memory to Prism,
    and to the bare app of the same process model."""
    pairs = []
    for mock in (name for name in present if name.startswith("mock")):
        bare = mock.replace("mock", "bare")
        pairs += [(mock, other) for other in ("prism", bare) if other in present]
    return pairs


def is_mock(target: str) -> bool:
    return target.startswith(MOCKS)


def print_table(results: dict[tuple[str, str], list[dict]], names: list[str], present: list[str]) -> None:
    pairs = ratios(present)
    header = f"{'scenario':<36}"
    for target in present:
        header += f" | {target + ' req/s':>14} {'p50 ms':>7} {'p99 ms':>7}"
    header += " |" + "".join(f" {f'{mock}/{other}':>{max(len(mock + other) + 1, 6)}}" for mock, other in pairs)
    header += f" | {'5xx':>4} {'sock err':>8} {'unexpected':>10}"
    print(header)
    print("-" * len(header))
    for name in names:
        row = f"{name:<36}"
        stats = {target: summary(results[name, target]) for target in present}
        for target in present:
            s = stats[target]
            row += f" | {s['rps']:>14.0f} {s['p50']:>7.2f} {s['p99']:>7.2f}"
        row += " |" + "".join(
            f" {stats[mock]['rps'] / stats[other]['rps']:>{max(len(mock + other) + 1, 6)}.2f}" for mock, other in pairs
        )
        row += f" | {sum(s['fivexx'] for s in stats.values()):>4} {sum(s['socket'] for s in stats.values()):>8}"
        row += f" {sum(stats[t]['unexpected'] for t in present if t != 'prism'):>10}"
        print(row)
    print(
        "5xx and socket errors: all targets together; unexpected: statuses the mocks or the bare app should not give."
        " p50/p99: median over rounds. mock: `make mock`; mock-xN: `make mock WORKERS=N`; bare-xN: the bare app"
        " on N processes, the same server and process model."
    )


# --- main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, default=Path("openapi.yaml"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5, help="length of one wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="processes of the redis-xN mock (default: cores)"
    )
    parser.add_argument("--soak-requests", type=int, default=1_000_000, help="the mock's memory run; 0: none")
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument("--proxy-only", action="store_true", help="only the validating proxy's added latency")
    args = parser.parse_args()
    from in_process import measure

    from mockserver import settings
    from mockserver.pipeline.security.tokens import issue_token

    env = {**os.environ, settings.JWT_SECRET_ENV: settings.jwt_secret()}
    # As long-lived as the mock accepts (a longer one is a 401 for every request).
    token = issue_token(settings.jwt_secret(), MORGAN, LOGIN["email"], settings.MAX_TOKEN_LIFETIME_SECONDS - 60)
    chosen = [s for s in scenarios(ROOT / args.spec, token) if not args.only or args.only in s.name]
    if args.proxy_only:
        if wrk_available():
            proxy_figure_only(args, env, chosen)
        return
    if chosen:
        measure(chosen)
        print()
    if not wrk_available():
        return
    if chosen:
        with redis_server() as redis_url:
            run_targets(args, env, chosen, token, redis_url)
    resources = [s for s in resource_scenarios(token) if not args.only or args.only in s.name]
    if resources:
        print()
        run_resource_targets(args, env, resources)


def load_rounds(chosen: list[Scenario], targets: dict[str, Target], args, scripts: Path) -> dict:
    """Every scenario at every target, `args.rounds` times, the order rotating; the wrk results."""
    present = list(targets)
    results: dict[tuple[str, str], list[dict]] = {(s.name, t): [] for s in chosen for t in present}
    print(
        f"{len(chosen)} scenarios x {len(present)} targets x {args.rounds} rounds of {args.seconds:g} s,"
        f" wrk -t{args.wrk_threads} -c{args.connections}; mocks and bare apps on one event loop a process",
        flush=True,
    )
    for index, scenario in enumerate(chosen):
        per_target = {}
        for target in present:
            path = scripts / f"{scenario.name.split()[0]}-{index}-{target}.lua"
            path.write_text(lua_script(scenario, None if target == "prism" else scenario.expected))
            per_target[target] = path
            run_wrk(targets[target].url, path, 1, args.connections, args.wrk_threads)  # warm-up
        for round_number in range(args.rounds):
            shift = (round_number + index) % len(present)
            for target in present[shift:] + present[:shift]:
                if scenario.reset and is_mock(target):
                    post(targets[target].url + "/__mock/reset")
                result = run_wrk(
                    targets[target].url, per_target[target], args.seconds, args.connections, args.wrk_threads
                )
                results[scenario.name, target].append(result)
        print(f"  done: {scenario.name}", flush=True)
    return results


def run_resource_targets(args, env, chosen: list[Scenario]) -> None:
    """The inferred resources' scenarios: the mocks (one process, N workers) and Prism on RESOURCE_SPEC."""
    workers = str(args.workers)
    serve = [str(Path(sys.executable).with_name("mockserver")), "serve"]
    serve += ["--state-limits", BENCH_LIMITS, "--spec", str(RESOURCE_SPEC)]
    targets = {}
    try:
        for name, options in (("mock", []), (f"mock-x{workers}", ["--workers", workers])):
            port = free_port()
            targets[name] = start(name, [*serve, "--port", str(port), *options], port, env)
        if prism_installed():
            port = free_port()
            command = [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(RESOURCE_SPEC)]
            targets["prism"] = start("prism", command, port, env)
        print(f"inferred resources, {RESOURCE_SPEC.relative_to(ROOT)}:")
        with tempfile.TemporaryDirectory() as scripts:
            results = load_rounds(chosen, targets, args, Path(scripts))
        print()
        print_table(results, [s.name for s in chosen], list(targets))
    finally:
        for target in targets.values():
            stop(target)


def run_targets(args, env, chosen: list[Scenario], token: str, redis_url: str | None) -> None:
    import hostile_bodies

    targets = start_targets(args, env, redis_url)
    present = list(targets)
    idle = {name: target.rss_mib() for name, target in targets.items()}
    try:
        with tempfile.TemporaryDirectory() as scripts:
            results = load_rounds(chosen, targets, args, Path(scripts))
            print()
            print_table(results, [s.name for s in chosen], present)
            print()
            for name in present:
                target = targets[name]
                print(
                    f"{name:<6} start-up {target.started_in:5.2f} s   RSS idle {idle[name]:6.1f} MiB,"
                    f" after the load {target.rss_mib():6.1f} MiB"
                )
            print()
            details_path = operation_paths(ROOT / args.spec)["getChatDetails"][1]
            hostile_bodies.measure(targets["mock"].url, details_path, {"Authorization": f"Bearer {token}"})
            print()
            proxy_overhead(targets["mock"], chosen, args, env, Path(scripts))
            print()
            if args.soak_requests:
                soak(targets["mock"], chosen[0], args, Path(scripts) / "soak.lua")
    finally:
        for target in targets.values():
            stop(target)


def proxy_overhead(mock: Target, chosen: list[Scenario], args, env: dict[str, str], scripts: Path) -> None:
    """The validating proxy's added latency: the same requests to the mock, directly and
    through `mockserver proxy` in front of it, in alternating rounds; with one connection
    (the latency of a call) and with the load's connections (queueing included)."""
    reads = [s for s in chosen if s.name in ("getChatDetails 200", "getChatMessages 200")]
    if not reads:
        return
    port = free_port()
    command = [str(Path(sys.executable).with_name("mockserver")), "proxy", "--upstream", mock.url]
    command += ["--port", str(port), "--report-dir", str(scripts / "proxy")]
    proxy = start("proxy", command, port, env)
    post(proxy.url + "/__mock/violations/reset")  # what start-up's probe left
    try:
        print("validating proxy in front of the mock (p50/p99 ms, median over rounds):")
        for scenario in reads:
            script = scripts / f"proxy-{scenario.name.split()[0]}.lua"
            script.write_text(lua_script(scenario, scenario.expected))
            for connections, threads in ((1, 1), (args.connections, args.wrk_threads)):
                rounds: dict[str, list[dict]] = {"direct": [], "proxy": []}
                for url in (mock.url, proxy.url):
                    run_wrk(url, script, 1, connections, threads)  # warm-up
                for round_number in range(args.rounds):
                    order = [("direct", mock.url), ("proxy", proxy.url)]
                    for name, url in order if round_number % 2 == 0 else order[::-1]:
                        rounds[name].append(run_wrk(url, script, args.seconds, connections, threads))
                direct, through = summary(rounds["direct"]), summary(rounds["proxy"])
                print(
                    f"  {scenario.name:<20} wrk -t{threads} -c{connections:<3} added latency"
                    f" p50 {through['p50'] - direct['p50']:+.2f} ms, p99 {through['p99'] - direct['p99']:+.2f} ms"
                    f" (direct {direct['p50']:.2f}/{direct['p99']:.2f}, {direct['rps']:.0f} req/s;"
                    f" through the proxy {through['p50']:.2f}/{through['p99']:.2f}, {through['rps']:.0f} req/s;"
                    f" unexpected statuses {direct['unexpected']} + {through['unexpected']})"
                )
        with urllib.request.urlopen(proxy.url + "/__mock/violations", timeout=10) as answer:
            print(f"  contract violations recorded by the proxy: {json.load(answer)['total']}")
    finally:
        stop(proxy)


def proxy_figure_only(args, env: dict[str, str], chosen: list[Scenario]) -> None:
    port = free_port()
    command = [str(Path(sys.executable).with_name("mockserver")), "serve", "--port", str(port)]
    mock = start("mock", command, port, env)
    try:
        with tempfile.TemporaryDirectory() as scripts:
            proxy_overhead(mock, chosen, args, env, Path(scripts))
    finally:
        stop(mock)


def soak(mock: Target, scenario: Scenario, args, script: Path) -> None:
    """The mock's memory before and after `--soak-requests` requests of the first scenario."""
    script.write_text(lua_script(scenario, scenario.expected))
    before = mock.rss_mib()
    sent = fivexx = socket_errors = 0
    started = time.perf_counter()
    while sent < args.soak_requests:
        result = run_wrk(mock.url, script, 30, args.connections, args.wrk_threads)
        sent += result["requests"]
        fivexx += result["fivexx"]
        socket_errors += result["socket_errors"] + result["timeouts"]
    print(
        f"mock   RSS {before:.1f} MiB before {sent:,} requests ({scenario.name}), {mock.rss_mib():.1f} MiB after;"
        f" {fivexx} 5xx, {socket_errors} socket errors, {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
