"""The built wheel, installed with its fastapi extra in a fresh virtualenv, runs the README's example.

This is what a user gets from ``pip install 'odm-elasticsearch[fastapi]'``: the wheel is
built from a copy of the sources (so nothing in the work tree, such as a stale
``build/``, leaks into it), installed outside the repository with its dependencies from
the package index (pip's cache makes a second run quick), and
``docs/examples/readme_fastapi.py``, the README's "Five minutes with FastAPI", runs
with that virtualenv's python from a directory where the work tree cannot be imported.
Skipped, with pip's error, when the package index cannot be reached.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "readme_fastapi.py"

pytestmark = pytest.mark.packaging

# pip's words for "the package index could not be reached". "from versions: none" also reads so:
# every requirement here (setuptools, fastapi, pydantic, elasticsearch, httpx...) exists on PyPI.
UNREACHABLE = re.compile(
    r"\(from versions: none\)|NewConnectionError|Max retries exceeded|Temporary failure in name resolution"
    r"|Name or service not known"
    r"|ProxyError|ConnectTimeoutError|ReadTimeoutError|Network is unreachable|Connection refused"
    r"|SSLError|CERTIFICATE_VERIFY_FAILED"
)


def run(
    command: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would let the work tree or its virtualenv be imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env.update(extra)
    return env


def check_pip(done: subprocess.CompletedProcess[str], what: str) -> None:
    """Fail on pip's error, or skip naming it when pip could not reach the package index."""
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    if UNREACHABLE.search(output):
        reason = next((line for line in output.splitlines() if UNREACHABLE.search(line)), "").strip()
        pytest.skip(f"pip {what} could not reach the package index: {reason}")
    pytest.fail(f"pip {what} failed:\n{output}")


def build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "odm", source / "odm", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    # Build isolation: pip installs the build backend (setuptools>=77) from the index, as for a user.
    check_pip(run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", dist], source, clean_env()), "wheel")
    [wheel] = dist.glob("odm_elasticsearch-*.whl")
    return wheel


def test_the_wheel_installs_with_its_fastapi_extra_and_runs_the_readme_example(
    tmp_path: Path, es_url: str, index_prefix: str
) -> None:
    assert ROOT not in tmp_path.parents
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"odm/py.typed", "odm/fastapi/__init__.py", "odm/testing/pytest_plugin.py"} <= names
    assert not [name for name in names if name.startswith(("tests/", "examples/", "docs/", "benchmarks/"))]

    venv = tmp_path / "venv"
    created = run([sys.executable, "-m", "venv", venv], tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr
    python = venv / "bin" / "python"
    # httpx: the example calls its app in-process when run as a script (the README installs it too).
    install: list[str | Path] = [python, "-m", "pip", "install", "--disable-pip-version-check", f"{wheel}[fastapi]", "httpx"]
    installed = run(install, tmp_path, clean_env())
    check_pip(installed, "install")

    workdir = tmp_path / "run"
    workdir.mkdir()
    script = workdir / "readme_fastapi.py"
    shutil.copy2(EXAMPLE, script)
    env = clean_env(ODM_ES_URL=es_url, ODM_INDEX_PREFIX=index_prefix)

    where = run([python, "-c", "import odm, fastapi; print(odm.__file__)"], workdir, env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the wheel's odm, not the work tree's

    result = run([python, script], workdir, env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    first, *rest = result.stdout.splitlines()
    # the ETag names the concrete index too (a hash of it: the test's prefix makes it vary)
    assert re.fullmatch(r'created 201 "0-1-[0-9a-f]{10}"', first), result.stdout + result.stderr
    assert rest == [
        "read {'isbn': '9780441172719', 'title': 'Dune', 'year': 1965, 'id': '9780441172719'}",
        "found ['Dune']",
        "missing 404",
    ], result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr

    # the console script: the installed `odm` command checks the example's index through the wheel's code
    odm_command = venv / "bin" / "odm"
    helped = run([odm_command, "--help"], workdir, env)
    assert helped.returncode == 0 and "check" in helped.stdout and "apply" in helped.stdout, helped.stdout + helped.stderr
    checked = run([odm_command, "check", "readme_fastapi:Book", "--url", es_url], workdir, clean_env(
        ODM_INDEX_PREFIX=index_prefix, PYTHONPATH=str(workdir)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr, checked.stderr
