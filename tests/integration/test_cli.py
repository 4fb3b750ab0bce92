"""``python -m odm load``: a JSON-lines file through a document class, every line accounted for."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from odm.cli import run
from odm.cli.load import _report

LINES = (
    '{"title": "first", "created_at": "2026-11-24T00:00:00", "views": 1}\n'
    '{"title": "broken", "created_at": "not a date"}\n'
    "\n"
    '{"title": "third", "created_at": "2026-11-24T00:00:00", "views": 3}\n'
)


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text(LINES)
    return path


async def test_load_writes_the_valid_lines_and_reports_the_rest(
    odm_client: AsyncElasticsearch, index_prefix: str, es_url: str, jsonl: Path
) -> None:
    index = index_prefix + "cli-posts"
    out, err = io.StringIO(), io.StringIO()
    argv = ["load", "tests.models.blog:Post", str(jsonl), "--url", es_url, "--index", index, "--init"]
    status = await run([*argv, "--id-field", "title"], out=out, err=err)
    assert status == 1  # one line was invalid
    assert "error" not in err.getvalue()  # only the progress bar (with tqdm) goes there
    report = out.getvalue()
    assert "2 succeeded, 0 failed, 0 not attempted>, 1 invalid lines" in report
    assert "line 2: Post document" in report and "created_at" in report
    assert "(id 'broken')" in report  # the id the invalid line would have had
    stored = await odm_client.search(index=index, sort=["views"])
    assert [hit["_id"] for hit in stored["hits"]["hits"]] == ["first", "third"]

    out = io.StringIO()  # the same lines again, with --create: a create that meets a stored id is a conflict
    assert await run([*argv[:-1], "--id-field", "title", "--create"], out=out) == 1
    assert "0 succeeded, 2 failed, 0 not attempted>, 1 invalid lines" in out.getvalue()
    assert "line 1: version_conflict_engine_exception (409)" in out.getvalue()

    jsonl.write_text(LINES.replace('"views": 1', '"views": 10').replace('"views": 3', '"views": 30'))
    out = io.StringIO()  # other content under the same ids: true conflicts, nothing overwritten
    assert await run([*argv[:-1], "--id-field", "title", "--create"], out=out) == 1
    assert "line 1: version_conflict_engine_exception (409)" in out.getvalue()
    assert "line 4: version_conflict_engine_exception (409)" in out.getvalue()
    stored = await odm_client.search(index=index, sort=["views"])
    assert [hit["_source"]["views"] for hit in stored["hits"]["hits"]] == [1, 3]


async def test_load_refuses_lines_whose_id_field_holds_no_id(
    odm_client: AsyncElasticsearch, index_prefix: str, es_url: str, tmp_path: Path
) -> None:
    """An id field holding null (or an object) gives no id: the line is reported, never written
    under the id "None" where every such line would overwrite the one before it."""
    index = index_prefix + "cli-null-ids"
    path = tmp_path / "posts.jsonl"
    path.write_text(
        '{"title": "one", "created_at": "2026-11-24T00:00:00"}\n'
        '{"title": "two", "created_at": "2026-11-24T00:00:00", "author": null}\n'
        '{"title": "three", "created_at": "2026-11-24T00:00:00", "author": {"name": "ann", "email": "ann@example.com"}}\n'
    )
    out = io.StringIO()
    argv = ["load", "tests.models.blog:Post", str(path), "--url", es_url, "--index", index, "--init"]
    assert await run([*argv, "--id-field", "author"], out=out, err=io.StringIO()) == 1
    report = out.getvalue()
    assert "0 succeeded, 0 failed, 0 not attempted>, 3 invalid lines" in report
    assert "2 lines (1, 2): " in report and "--id-field author is null: no id to write it with" in report
    assert "line 3: " in report and "--id-field author is a Author, not a string or integer" in report
    await odm_client.indices.refresh(index=index)
    assert (await odm_client.count(index=index))["count"] == 0


def test_a_class_that_is_not_a_document_is_refused(jsonl: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "odm", "load", "tests.models.blog:Author", str(jsonl)], capture_output=True, text=True
    )
    assert done.returncode == 2  # the command line is wrong
    assert done.stderr.strip() == "error: tests.models.blog:Author is not an odm.AsyncDocument subclass"
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["load", "no_such_module:Post", "FILE"], "error: cannot import 'no_such_module'"),
        (["load", "tests.models.blog:Post", "missing.jsonl"], "error: missing.jsonl: no such file"),
    ],
)
async def test_a_wrong_command_line_is_one_clear_line_and_status_2(jsonl: Path, argv: list[str], message: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = [str(jsonl) if arg == "FILE" else arg for arg in argv]
    assert await run(argv, out=out, err=err) == 2
    assert err.getvalue().startswith(message) and err.getvalue().count("\n") == 1 and out.getvalue() == ""


async def test_an_unreachable_node_is_one_clear_line_and_status_3(jsonl: Path) -> None:
    err = io.StringIO()
    argv = ["load", "tests.models.blog:Post", str(jsonl), "--url", "http://127.0.0.1:9", "--init"]
    assert await run(argv, out=io.StringIO(), err=err) == 3
    assert err.getvalue().startswith("error: cannot reach Elasticsearch at http://127.0.0.1:9")
    assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()


async def test_a_missing_index_is_not_created_without_init(
    odm_client: AsyncElasticsearch, index_prefix: str, es_url: str, jsonl: Path
) -> None:
    index = index_prefix + "cli-missing"
    err = io.StringIO()
    assert await run(["load", "tests.models.blog:Post", str(jsonl), "--url", es_url, "--index", index], err=err) == 3
    assert "does not exist; run with --init" in err.getvalue()
    assert not await odm_client.indices.exists(index=index)  # no dynamic mapping was guessed


def test_help_is_plain_text_with_every_option_described() -> None:
    done = subprocess.run([sys.executable, "-m", "odm", "load", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "``" not in done.stdout and ":func:" not in done.stdout
    for option in ("--url", "--index", "--id-field", "--create", "--init", "--chunk-size"):
        line = next(line for line in done.stdout.splitlines() if line.strip().startswith(option))
        assert len(line.split()) > 2 or option in ("--chunk-size",), line  # the option has a description


def test_the_same_failure_of_many_lines_is_said_once_with_their_numbers() -> None:
    out = io.StringIO()
    _report([(n, "ConnectionError(refused)") for n in range(1, 15)] + [(20, "version_conflict (409)")], out)
    assert out.getvalue().splitlines() == [
        "  14 lines (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...): ConnectionError(refused)",
        "  line 20: version_conflict (409)",
    ]
