"""`python ARGS` started warm: a child forked from a process that has imported the mock,
pytest and schemathesis once. The proof of teeth starts about 65 mock servers and as many
runs of the contract suite; each would otherwise spend 1 to 3 s of CPU on those imports.

    python tests/warm.py MODULE...   # imports the modules, then forks a child per command

A command is one JSON line on stdin: {"argv", "env", "cwd", "stdout", "stderr", "code"}:
the child runs argv as `python argv...` would (a script, or `-m module`), with that
environment and directory, its output in the two files, and writes its exit code to the
file `code`. The parent answers each command with the child's PID on a line of its own.
Only modules imported before the fork are shared: the contract suite's own modules are
imported in each child, so that pytest rewrites their asserts and they read their
environment there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Child:
    """A forked command, as much of `subprocess.Popen` as the tests use."""

    pid: int
    code_file: Path
    stdout: Path

    def poll(self) -> int | None:
        if self.code_file.exists():
            return int(self.code_file.read_text() or 1)
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:  # ended without writing its code: killed by a signal
            return int(self.code_file.read_text() or 1) if self.code_file.exists() else -1
        return None

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return code

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def first_line(self, timeout: float) -> str:
        """The first line the child printed, once it has printed one (or ended)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout.read_text() if self.stdout.exists() else ""
            if "\n" in text or self.poll() is not None:
                return text.partition("\n")[0]
            time.sleep(0.02)
        raise TimeoutError(f"process {self.pid} printed no line in {timeout} s")


class WarmPython:
    """The forking process, started with `modules` imported; `run` is thread-safe."""

    def __init__(self, *modules: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, __file__, *modules], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._lock = threading.Lock()

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, output: Path) -> Child:
        """Start `python argv...`; its stdout in output.out, its stderr in output.err."""
        files = {name: str(output.with_suffix(f".{name}")) for name in ("stdout", "stderr", "code")}
        command = {"argv": argv, "env": env, "cwd": str(cwd), **files}
        with self._lock:
            self._process.stdin.write(json.dumps(command) + "\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
        if not answer.strip().isdigit():
            raise RuntimeError(f"the warm process did not start {argv}: {answer!r} (exit {self._process.poll()})")
        return Child(int(answer), Path(files["code"]), Path(files["stdout"]))

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=30)
        self._process.stdout.close()


def _child(command: dict) -> None:
    """In the forked child: become `python argv...`, then leave with its exit code."""
    code = 1
    try:
        os.setpgid(0, 0)  # away from the parent's terminal signals
        for fd, name in ((1, "stdout"), (2, "stderr")):
            target = os.open(command[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(command["env"])
        os.chdir(command["cwd"])
        argv = command["argv"]
        import runpy

        try:
            if argv[0] == "-m":
                sys.argv = [argv[1], *argv[2:]]
                sys.path[0] = command["cwd"]
                runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
            else:
                sys.argv = list(argv)
                sys.path[0] = str(Path(argv[0]).resolve().parent)
                runpy.run_path(argv[0], run_name="__main__")
            code = 0
        except SystemExit as leaving:
            code = leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
            Path(command["code"]).write_text(str(code))
        os._exit(code)


def main() -> None:
    import importlib

    for module in sys.argv[1:]:
        importlib.import_module(module)
    if threading.active_count() > 1:
        raise SystemExit("a thread was started while importing: forking would copy it half-way")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    for line in sys.stdin:
        command = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(command)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
