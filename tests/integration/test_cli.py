"""``python -m odm load``: a JSON-lines file through a document class, every line accounted for."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from odm.cli import run

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
    out = io.StringIO()
    argv = ["load", "tests.models.blog:Post", str(jsonl), "--url", es_url, "--index", index, "--init"]
    status = await run([*argv, "--id-field", "title"], out=out)
    assert status == 1  # one line was invalid
    report = out.getvalue()
    assert "2 succeeded, 0 failed, 0 not attempted>, 1 invalid lines" in report
    assert "line 2: Post document" in report and "created_at" in report
    stored = await odm_client.search(index=index, sort=["views"])
    assert [hit["_id"] for hit in stored["hits"]["hits"]] == ["first", "third"]

    out = io.StringIO()  # the same lines again, with --create: the identical documents are found, not conflicts
    assert await run([*argv[:-1], "--id-field", "title", "--create"], out=out) == 1
    assert "2 succeeded, 0 failed, 0 not attempted>, 1 invalid lines" in out.getvalue()

    jsonl.write_text(LINES.replace('"views": 1', '"views": 10').replace('"views": 3', '"views": 30'))
    out = io.StringIO()  # other content under the same ids: true conflicts, nothing overwritten
    assert await run([*argv[:-1], "--id-field", "title", "--create"], out=out) == 1
    assert "line 1: version_conflict_engine_exception (409)" in out.getvalue()
    assert "line 4: version_conflict_engine_exception (409)" in out.getvalue()
    stored = await odm_client.search(index=index, sort=["views"])
    assert [hit["_source"]["views"] for hit in stored["hits"]["hits"]] == [1, 3]


def test_a_class_that_is_not_a_document_is_refused(jsonl: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "odm", "load", "tests.models.blog:Author", str(jsonl)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "tests.models.blog:Author is not an odm.AsyncDocument subclass" in done.stderr
