"""`make mock` installs only what serving needs (issue: the whole test extra, 86 packages and
376 MB, came before the first answer): the package's own dependencies name none of the test
tools, the Makefile's `mock` target installs the package alone, and serving imports none of
them (each blocked here: an import of one would fail)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = ["schemathesis", "playwright", "mutmut", "ruff", "pytest", "mudbase", "import-linter", "xdist"]
SERVE = """
import sys
for name in {modules!r}:
    sys.modules[name] = None  # `import name` raises ImportError
from mockserver.server.app import create_app
import mockserver.cli
app = create_app("openapi.yaml", "fixtures")
assert app.test_client().post("/api/auth/login", json={{}}).status_code == 400
print("served")
"""


def test_the_packages_dependencies_name_no_test_tool():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=\\[; ]", requirement)[0].lower() for requirement in project["dependencies"]]
    assert not [name for name in names if any(tool in name for tool in TEST_TOOLS)], names
    assert any("schemathesis" in requirement for requirement in project["optional-dependencies"]["test"])


def test_make_mock_installs_the_package_without_its_extras():
    makefile = (ROOT / "Makefile").read_text()
    mock = re.search(r"^mock: (.+)$", makefile, re.MULTILINE)
    assert mock and mock.group(1).split() == ["$(SERVE_STAMP)"], mock
    serve_recipe = re.search(r"^\$\(SERVE_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert serve_recipe and "pip install --quiet -e .\n" in serve_recipe.group(1)
    assert "[test]" not in serve_recipe.group(1)


def test_serving_imports_no_test_tool():
    modules = ["schemathesis", "playwright", "mutmut", "pytest", "_pytest", "mudbase", "importlinter", "xdist"]
    run = subprocess.run(
        [sys.executable, "-c", SERVE.format(modules=modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and "served" in run.stdout, run.stderr[-3000:]
