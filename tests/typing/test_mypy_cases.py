"""Run mypy once over ``tests/typing/cases/*.py`` and compare with the expectations in them.

A case file is ordinary user code, checked with the repository's ``mypy.ini`` (strict,
``plugins = odm.mypy``). A line ending in ``# R: <type>`` must reveal exactly that type
(``reveal_type(...)``); a line ending in ``# E: <message> [code]`` must give exactly that
error. Every other line must pass. Notes other than revealed types (hints mypy adds to an
error) are not compared. The case files have no ``__init__.py``, so mypy checks them as
top-level modules, outside the looser ``[mypy-tests.*]`` section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((Path(__file__).parent / "cases").glob("*.py"))

_MARKER = re.compile(r"#\s*([RE]):\s*(.+?)\s*(?=#\s*[RE]:|$)")
_REPORT = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*)$")
_REVEALED = re.compile(r'^Revealed type is "(?P<type>.*)"$')


@dataclass(frozen=True, order=True)
class Report:
    """One expected or reported outcome: a revealed type (``R``) or an error (``E``)."""

    path: str
    line: int
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: # {self.kind}: {self.text}"


def _normalize(text: str) -> str:
    # mypy puts two spaces before the error code; case files may write one.
    return re.sub(r"\s+(\[[a-z0-9-]+\])$", r"  \1", text.strip())


def expected_reports(path: str, source: str) -> list[Report]:
    """The ``# R:`` / ``# E:`` expectations of one case file (several may share a line)."""
    reports = []
    for number, line in enumerate(source.splitlines(), start=1):
        for kind, text in _MARKER.findall(line):
            reports.append(Report(path, number, kind, _normalize(text)))
    return sorted(reports)


def reported(output: str) -> list[Report]:
    """Errors and revealed types in mypy's output (``file:line: severity: message``)."""
    reports = []
    for line in output.splitlines():
        match = _REPORT.match(line)
        if match is None:
            continue
        path, number, message = Path(match["path"]).name, int(match["line"]), match["message"]
        if match["severity"] == "error":
            reports.append(Report(path, number, "E", _normalize(message)))
        elif revealed := _REVEALED.match(message):
            reports.append(Report(path, number, "R", revealed["type"]))
    return sorted(reports)


def differences(expected: list[Report], actual: list[Report]) -> list[str]:
    """What was expected and not reported, and what was reported and not expected."""
    missing = [f"expected, not reported: {r}" for r in expected if r not in actual]
    unexpected = [f"reported, not expected: {r}" for r in actual if r not in expected]
    return missing + unexpected


def run_mypy(files: list[Path], config: Path = ROOT / "mypy.ini", cache: str = ".mypy_cache") -> str:
    """mypy with the repository's configuration (or ``config``), run from the repository root."""
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(ROOT / cache),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            "--show-error-codes",
            *(str(f) for f in files),
        ]
    )
    assert not stderr, stderr
    return stdout


def test_there_are_enough_cases() -> None:
    count = sum(len(expected_reports(f.name, f.read_text())) for f in CASES)
    assert count >= 40, count


def test_mypy_reports_exactly_what_the_cases_expect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # mypy_path and the imports of the cases are relative to the root
    output = run_mypy(CASES)
    expected = sorted(r for f in CASES for r in expected_reports(f.name, f.read_text()))
    found = differences(expected, reported(output))
    assert not found, "\n".join([*found, "mypy said:", output])


WITH_PYDANTIC = sorted((Path(__file__).parent / "with_pydantic_plugin").glob("*.py"))


@pytest.mark.parametrize("plugins", ["pydantic.mypy, odm.mypy", "odm.mypy, pydantic.mypy"])
def test_cases_with_pydantic_plugin_in_either_order(plugins: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs recommend pydantic's plugin beside odm's: together they must not report false errors."""
    config = tmp_path / "mypy.ini"
    config.write_text((ROOT / "mypy.ini").read_text().replace("plugins = odm.mypy", f"plugins = {plugins}"))
    assert plugins in config.read_text()
    monkeypatch.chdir(ROOT)
    output = run_mypy(WITH_PYDANTIC, config, cache=".mypy_cache_pydantic_plugin")
    expected = sorted(r for f in WITH_PYDANTIC for r in expected_reports(f.name, f.read_text()))
    found = differences(expected, reported(output))
    assert not found, "\n".join([*found, "mypy said:", output])


# -- the comparer itself: a wrong expectation must fail -------------------------------

CASE = """\
x = 1
reveal_type(x)  # R: int
y: str = x  # E: Incompatible types in assignment (expression has type "int", variable has type "str") [assignment]
"""

OUTPUT = """\
tests/typing/cases/demo.py:2: note: Revealed type is "int"
tests/typing/cases/demo.py:3: error: Incompatible types in assignment (expression has type "int", variable has type "str")  [assignment]
tests/typing/cases/demo.py:3: note: See https://mypy.rtfd.io for a hint that is not compared
"""


def test_matching_expectations_give_no_differences() -> None:
    assert differences(expected_reports("demo.py", CASE), reported(OUTPUT)) == []


@pytest.mark.parametrize(
    ("case", "difference"),
    [
        (CASE.replace("# R: int", "# R: str"), "expected, not reported: demo.py:2: # R: str"),
        (CASE.replace("  # R: int", ""), "reported, not expected: demo.py:2: # R: int"),
        (CASE.replace("(expression", "(expr"), 'expected, not reported: demo.py:3: # E: Incompatible types in assignment (expr'),
        (CASE.replace("[assignment]", "[misc]"), "expected, not reported: demo.py:3: # E: Incompatible"),
        (CASE + "z = 2  # E: Name is wrong [misc]\n", "expected, not reported: demo.py:4: # E: Name is wrong  [misc]"),
    ],
)
def test_a_wrong_expectation_is_a_difference(case: str, difference: str) -> None:
    found = differences(expected_reports("demo.py", case), reported(OUTPUT))
    assert any(d.startswith(difference) for d in found), found


def test_several_expectations_on_one_line() -> None:
    line = 'f(1)  # E: first [arg-type]  # E: second [misc]'
    assert expected_reports("a.py", line) == [Report("a.py", 1, "E", "first  [arg-type]"), Report("a.py", 1, "E", "second  [misc]")]


def test_a_real_mypy_run_with_a_wrong_expectation_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = tmp_path / "wrong.py"
    case.write_text("reveal_type(1 + 1)  # R: str\n")
    monkeypatch.chdir(ROOT)
    output = run_mypy([case])
    assert differences(expected_reports(case.name, case.read_text()), reported(output)) == [
        "expected, not reported: wrong.py:1: # R: str",
        "reported, not expected: wrong.py:1: # R: int",
    ]
