"""pyproject.toml and environment.yml must describe the same environment."""

import os
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def read_environment_yml(path):
    """Return (conda packages, pip packages) of an environment.yml shaped like ours.

    A deliberately small reader: top-level ``dependencies:`` items are conda packages, except
    ``- pip:``, whose nested items are pip requirements. Comments and blank lines are skipped.
    """
    conda, pip = [], []
    section, in_pip = None, False
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if indent == 0:
            section, in_pip = text.rstrip(":"), False
            continue
        if section != "dependencies" or not text.startswith("- "):
            continue
        item = text[2:].strip()
        if item == "pip:":
            in_pip = True
        elif in_pip and indent > 2:
            pip.append(item)
        else:
            in_pip = False
            conda.append(item)
    return conda, pip


def requirement_map(lines):
    """Map canonical package name -> specifier set, failing on duplicates."""
    result = {}
    for line in lines:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in result, f"{name} is listed twice"
        result[name] = requirement.specifier
    return result


@pytest.fixture(scope="module")
def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def environment():
    return read_environment_yml(ROOT / "environment.yml")


def test_pip_requirements_match_pyproject(pyproject, environment):
    project = pyproject["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    from_pyproject = requirement_map(declared)
    from_environment = requirement_map(environment[1])
    only_pyproject = sorted(from_pyproject.keys() - from_environment.keys())
    only_environment = sorted(from_environment.keys() - from_pyproject.keys())
    assert not only_pyproject, f"in pyproject.toml but not environment.yml: {only_pyproject}"
    assert not only_environment, f"in environment.yml but not pyproject.toml: {only_environment}"
    for name, specifier in from_pyproject.items():
        assert from_environment[name] == specifier, (
            f"{name}: pyproject.toml says {specifier!s}, environment.yml says "
            f"{from_environment[name]!s}"
        )


def test_python_version_agrees(pyproject, environment):
    conda = environment[0]
    pythons = [item for item in conda if re.match(r"python\s*[=<>]", item)]
    assert len(pythons) == 1, f"environment.yml must pin python once, found {pythons}"
    version = Version(re.split(r"[=<>]+", pythons[0])[1].strip())
    assert version in SpecifierSet(pyproject["project"]["requires-python"])
    assert "pip" in conda


def test_reader_agrees_with_yaml():
    yaml = pytest.importorskip("yaml")
    document = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [item for item in document["dependencies"] if isinstance(item, str)]
    pip = [item for item in document["dependencies"] if isinstance(item, dict)][0]["pip"]
    assert read_environment_yml(ROOT / "environment.yml") == (conda, pip)


def test_reader_catches_a_disagreement(tmp_path):
    text = (ROOT / "environment.yml").read_text().replace("scipy>=1.11", "scipy>=1.10")
    (tmp_path / "environment.yml").write_text(text)
    _, pip = read_environment_yml(tmp_path / "environment.yml")
    assert requirement_map(pip)["scipy"] == SpecifierSet(">=1.10")


def test_ci_entry_point_runs_make_test_only():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK), ".ci/run must be executable"
    commands = [
        line.strip()
        for line in script.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[0] == "set -euo pipefail"
    assert commands[-1] == "make test"
