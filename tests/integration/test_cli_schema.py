"""``odm status``, ``odm check`` and ``odm adopt`` against the real node, in-process and as ``python -m odm``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from odm.cli import run
from odm.schema._lock import Locked

MODELS = '''
from typing import Annotated

from odm import AsyncDocument, Keyword, Text

PREFIX = {prefix!r}


class Post(AsyncDocument):
    title: Annotated[str, Text()]
    tag: Annotated[str, Keyword()] = ""

    class Index:
        name = PREFIX + "posts"
        versioned = True
        settings = {{"number_of_shards": 1, "number_of_replicas": 0}}


class Note(AsyncDocument):
    text: str

    class Index:
        name = PREFIX + "notes"
        settings = {{"number_of_shards": 1, "number_of_replicas": 0}}
'''

CHANGED = '''
class Post(Post):  # the model changed: tag becomes text, a new field
    tag: Annotated[str, Text()] = ""
    extra: Annotated[str, Keyword()] = ""


class Note(Note):
    text: str
    pinned: bool = False
'''


@pytest.fixture
def models(tmp_path: Path, index_prefix: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An importable module of document classes bound to this test's prefix; returns its name."""
    name = "cli_models_" + index_prefix.replace("-", "_").rstrip("_")
    (tmp_path / f"{name}.py").write_text(MODELS.format(prefix=index_prefix))
    (tmp_path / f"{name}_changed.py").write_text(
        MODELS.format(prefix=index_prefix) + textwrap.dedent(CHANGED)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


async def odm_streams(*argv: str) -> tuple[int, str, str]:
    """The exit status, what the command printed as results (stdout), and as errors (stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = await run(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


async def odm(*argv: str) -> tuple[int, str]:
    """The exit status and the results of a command that reports no error."""
    status, out, err = await odm_streams(*argv)
    assert err == "", err
    return status, out


async def test_status_and_check_of_missing_indices_then_after_init(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, models: str
) -> None:
    status, text = await odm("status", models, "--url", es_url)
    assert status == 0
    lines = text.splitlines()
    assert lines[0].split() == ["CLASS", "ALIAS", "INDEX", "VERSION", "DOCS", "HASH", "DRIFT"]
    assert lines[1].split() == [f"{models}:Note", index_prefix + "notes", "-", "-", "-", "-", "missing"]
    assert lines[2].split() == [f"{models}:Post", index_prefix + "posts", "-", "-", "-", "-", "missing"]

    status, text = await odm("check", models, "--url", es_url)
    assert status == 1  # a missing index fails the gate
    assert text.splitlines() == [
        f"{models}:Note ({index_prefix}notes): missing: init() creates it",
        f"{models}:Post ({index_prefix}posts): missing: init() creates it",
        "check: 2 classes (2 missing): drift",
    ]

    module = __import__(models)
    await module.Post.init()
    await module.Note.init()
    await module.Post(title="one", meta={"id": "1"}).save(refresh=True)
    status, text = await odm("status", models, "--url", es_url)
    assert status == 0
    assert [line.split() for line in text.splitlines()[1:]] == [
        [f"{models}:Note", index_prefix + "notes", index_prefix + "notes", "-", "0", "same", "none"],
        [f"{models}:Post", index_prefix + "posts", index_prefix + "posts-v1", "1", "1", "same", "none"],
    ]
    status, text = await odm("check", models, "--url", es_url, "--strict")
    assert status == 0
    assert text.splitlines() == [
        f"{models}:Note ({index_prefix}notes): up to date",
        f"{models}:Post ({index_prefix}posts -> {index_prefix}posts-v1): up to date",
        "check: 2 classes (2 none): ok",
    ]


async def test_check_lists_each_change_with_its_reason_and_strict_fails_on_in_place(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, models: str
) -> None:
    module = __import__(models)
    await module.Post.init()
    await module.Note.init()
    changed = models + "_changed"

    status, text = await odm("check", f"{changed}:Note", "--url", es_url)
    assert status == 0  # only in-place changes: init() applies them
    note_lines = text.splitlines()
    assert note_lines[0] == f"{changed}:Note ({index_prefix}notes): in_place: init() applies these changes"
    assert note_lines[1] == "  in_place   pinned: new field: added in place"
    assert note_lines[2].startswith("  in_place   _meta: stored definition hash ")
    assert note_lines[3] == "check: 1 class (1 in_place): ok"
    assert await odm("check", f"{changed}:Note", "--url", es_url, "--strict") == (1, text.replace(": ok", ": drift"))

    status, text = await odm("check", changed, "--url", es_url)
    assert status == 1
    lines = text.splitlines()
    assert lines[:3] == note_lines[:3]  # the module's classes, by name
    post = lines[3:]
    assert post[0] == (
        f"{changed}:Post ({index_prefix}posts -> {index_prefix}posts-v1): new_index: a migration to a new index is needed"
    )
    assert post[1] == "  new_index  tag: type keyword -> text: a field's type cannot change in place"  # first
    assert post[2] == "  in_place   extra: new field: added in place"
    assert post[3].startswith("  in_place   _meta: stored definition hash ")
    assert post[4:] == ["check: 2 classes (1 in_place, 1 new_index): drift"]

    status, text = await odm("status", changed, "--url", es_url)
    assert [line.split()[-2:] for line in text.splitlines()[1:]] == [["differs", "in_place"], ["differs", "new_index"]]


async def test_adopt_moves_a_concrete_index_behind_the_alias_and_a_second_run_does_nothing(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, models: str
) -> None:
    name = index_prefix + "posts"
    await odm_client.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0})
    await odm_client.index(index=name, id="old", document={"title": "old"}, refresh=True)

    status, text = await odm("check", f"{models}:Post", "--url", es_url)
    assert status == 1 and "adopt() moves it behind the alias" in text

    assert await odm("adopt", f"{models}:Post", "--url", es_url) == (
        0, f"{models}:Post: {name} is now an alias of {name}-v1 (1 document)\n"
    )
    assert await odm("adopt", f"{models}:Post", "--url", es_url) == (
        0, f"{models}:Post: {name} is an alias of {name}-v1 already; nothing to do\n"
    )
    assert (await odm_client.get(index=name, id="old"))["_source"] == {"title": "old"}


async def test_a_failed_adopt_is_one_error_line_and_status_3(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, models: str
) -> None:
    name = index_prefix + "posts"
    await odm_client.indices.create(index=name)
    await odm_client.indices.create(index=name + "-v1")
    assert await odm_streams("adopt", f"{models}:Post", "--url", es_url) == (
        3, "", f"error: adopting index {name!r} as {name + '-v1'!r}: {name + '-v1'!r} exists already; nothing was changed\n"
    )


async def test_adopt_while_another_process_holds_the_lock_is_status_4_and_changes_nothing(
    odm_client: AsyncElasticsearch, es_url: str, index_prefix: str, models: str
) -> None:
    name, state_index = index_prefix + "posts", index_prefix + "odm-migrations"
    await odm_client.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0})
    await odm_client.index(index=name, id="old", document={"title": "old"}, refresh=True)
    other = Locked(odm_client, state_index, name, 60)  # another adopt, or a migration, of the alias
    await other.lease.acquire()

    status, out, err = await odm_streams("adopt", f"{models}:Post", "--url", es_url, "--state-index", state_index)
    assert (status, out) == (4, "")
    assert err.startswith(f"error: migration of {name!r}: adopt refused: {other.lease.owner} holds the migration lock")
    assert "nothing was changed" in err and err.count("\n") == 1
    assert await odm_client.indices.exists(index=name) and not await odm_client.indices.exists_alias(name=name)
    assert not await odm_client.indices.exists(index=name + "-v1")

    assert await odm("adopt", f"{models}:Post", "--url", es_url, "--state-index", state_index, "--force") == (
        0, f"{models}:Post: {name} is now an alias of {name}-v1 (1 document)\n"
    )
    assert (await odm_client.get(index=name, id="old"))["_source"] == {"title": "old"}


async def test_wrong_classes_and_an_unreachable_node(models: str) -> None:
    assert await odm_streams("status", "no_such_module:Post") == (
        2, "", "error: cannot import 'no_such_module': No module named 'no_such_module'\n"
    )
    status, out, err = await odm_streams("check", f"{models}:Post", "--url", "http://127.0.0.1:9")
    assert (status, out) == (3, "")
    assert err.startswith("error: cannot reach Elasticsearch at http://127.0.0.1:9") and err.count("\n") == 1


def test_check_through_python_m_odm(es_url: str, index_prefix: str, models: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()]), "ODM_ES_URL": es_url}
    done = subprocess.run(
        [sys.executable, "-m", "odm", "check", f"{models}:Note"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1
    assert done.stdout == f"{models}:Note ({index_prefix}notes): missing: init() creates it\ncheck: 1 class (1 missing): drift\n"
    assert done.stderr == ""  # results go to stdout, only errors and progress to stderr


def test_help_describes_every_option_and_the_exit_status() -> None:
    for command in ("status", "check", "adopt"):
        done = subprocess.run([sys.executable, "-m", "odm", command, "--help"], capture_output=True, text=True)
        assert done.returncode == 0
        assert "exit status: 0" in done.stdout and "DOCS" in done.stdout and "--url" in done.stdout
        if command == "adopt":
            assert all(option in done.stdout for option in ("--state-index", "--wait", "--force", "4 another process"))
