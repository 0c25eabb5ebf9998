"""The environment `make install` builds."""

from __future__ import annotations

from importlib.metadata import version

from packaging.version import Version


def test_setuptools_has_no_known_cves():
    # `python3.11 -m venv` seeds setuptools 65.5 (CVE-2022-40897, CVE-2024-6345,
    # CVE-2025-47273); `make install` upgrades it past the last fix, 78.1.1.
    assert Version(version("setuptools")) >= Version("78.1.1")
