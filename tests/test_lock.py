"""The lock (requirements*.txt, `make lock`) matches pyproject.toml: every dependency pinned to
an exact version inside its range, with hashes, and nothing unpinned."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)")


def pins(lock: str) -> dict[str, str]:
    """name → version of every top-level line of a pip-compile lock."""
    text = (ROOT / lock).read_text()
    found = {canonicalize_name(m[1]): m[2] for line in text.splitlines() if (m := PIN.match(line))}
    requirement_lines = [line for line in text.splitlines()
                         if line and not line[0].isspace() and not line.startswith("#")]
    assert len(found) == len(requirement_lines), "every requirement is pinned with =="
    assert text.count("--hash=sha256:") >= len(found), "every pin has its hashes"
    return found


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("lock, extras", [("requirements.txt", []),
                                          ("requirements-test.txt", ["test"])])
def test_the_lock_pins_every_dependency_inside_its_range(lock, extras):
    pinned = pins(lock)
    wanted = [Requirement(r) for r in project()["dependencies"]]
    for extra in extras:
        wanted += [Requirement(r) for r in project()["optional-dependencies"][extra]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock}: run make lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement}: run make lock")


def test_the_test_lock_holds_the_runtime_lock():
    runtime, test = pins("requirements.txt"), pins("requirements-test.txt")
    assert {name: test.get(name) for name in runtime} == runtime
