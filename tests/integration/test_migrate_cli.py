"""``odm plan|apply|resume|rollback|prune`` against the node: in-process through ``odm.cli.run``, and once as a process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from odm.cli import run
from odm.testing import NodeInfo
from odm.testing.isolation import isolated
from tests.integration import migrate_models
from tests.integration.signals import sigint_as_default


@pytest.fixture
def models(index_prefix: str) -> Iterator[str]:
    """A module of the test's prefixed classes and transforms, importable by name."""
    name = "migrate_cli_models_" + index_prefix.replace("-", "_")
    module = types.ModuleType(name)
    for cls in (migrate_models.PostV1, migrate_models.PostV2, migrate_models.Unversioned):
        bound = isolated(cls, index_prefix)
        bound.__module__ = name
        setattr(module, cls.__name__, bound)
    module.rename = migrate_models.rename  # type: ignore[attr-defined]
    module.NoName = migrate_models.NoName  # type: ignore[attr-defined]
    sys.modules[name] = module
    yield name
    del sys.modules[name]


async def odm(*argv: str) -> tuple[int, str, str]:
    """The exit status, the results (stdout) and the progress and error lines (stderr) of a command."""
    out, err = io.StringIO(), io.StringIO()
    status = await run(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


async def test_every_migration_command_in_process(
    odm_client: AsyncElasticsearch, models: str, index_prefix: str, es_url: str
) -> None:
    alias = index_prefix + "mig-posts"
    common = ["--url", es_url, "--state-index", index_prefix + "odm-migrations"]
    status, out, err = await odm("apply", f"{models}:PostV1", *common)
    assert status == 0 and out.startswith(f"{alias}: init() created or updated {alias}") and err == "", out
    status, out, err = await odm("plan", f"{models}:PostV1", *common)
    assert status == 0 and out.startswith(f"{alias}: nothing to do") and err == ""
    await odm_client.bulk(
        index=alias, refresh=True,
        operations=[line for n in range(30) for line in ({"index": {"_id": f"p{n}"}}, {"name": f"p{n}", "views": n})],
    )
    await odm_client.index(index=alias, id="neg", document={"name": "neg", "views": -1}, refresh=True)

    status, out, err = await odm("plan", f"{models}:PostV2", *common)
    assert status == 0 and err == ""
    assert out.splitlines()[0] == f"{alias}: migrate from {alias}-v1 to {alias}-v2, through PostV2"
    assert "  new_index name: " in out

    status, out, err = await odm("apply", f"{models}:PostV2", "--transform", f"{models}:rename", *common)
    assert status == 3 and out == ""  # "neg" is rejected: no swap
    assert f"error: migration of '{alias}': 1 documents were rejected by PostV2" in err
    assert "  rejected neg: " in err and "greater than or equal to 0" in err

    status, out, err = await odm(
        "apply", f"{models}:PostV2", "--transform", f"{models}:rename", "--accept-invalid", "--page-size", "10", *common
    )
    assert status == 0, err
    progress = err.splitlines()  # the phases (and the bar, with tqdm) on stderr
    assert f"{alias}: create" in progress and f"{alias}: swap" in progress and f"{alias}: done" in progress
    assert any(line.startswith(f"{alias}: block (copied 30 of 31, 1 rejected, ") for line in progress), err
    assert f"{alias}: catch_up (0 caught up)" in progress, err
    assert out.startswith(f"{alias}: migrated {alias}-v1 -> {alias}-v2: 30 copied of 31, 0 caught up, 1 invalid"), out
    assert "  rejected neg: " in out  # accepted: part of the result

    status, out, err = await odm("resume", f"{models}:PostV2", "--transform", f"{models}:rename", *common)
    assert status == 0 and out.startswith(f"{alias}: nothing to do in "), out
    status, out, err = await odm("rollback", f"{models}:PostV2", "--previous", f"{models}:PostV1", *common)
    assert status == 0 and out.startswith(f"{alias}: rolled back {alias}-v2 -> {alias}-v1")
    assert f"{alias}: block" in err.splitlines()
    status, out, err = await odm("prune", f"{models}:PostV2", "--keep", "0", *common)
    assert (status, out, err) == (0, f"{alias}: deleted {alias}-v2\n  kept {alias}-v1: live (behind the alias)\n", "")
    status, out, err = await odm("rollback", f"{models}:PostV2", *common)
    assert status == 3 and out == "" and "no finished migration to roll back" in err


async def test_wrong_command_lines_exit_2(models: str, es_url: str) -> None:
    assert (await odm("apply", f"{models}:PostV2", "--transform", "nomodule_x:f", "--url", es_url))[0] == 2
    status, out, err = await odm("apply", f"{models}:PostV2", "--transform", f"{models}:PostV9", "--url", es_url)
    assert status == 2 and "is not a function" in err and out == ""
    assert (await odm("prune", f"{models}:PostV2", "--keep", "-1", "--url", es_url))[0] == 2
    assert (await odm("plan"))[0] == 2
    for option in ("--page-size", "--concurrency"):
        for value in ("0", "-1", "x"):
            assert (await odm("apply", f"{models}:PostV2", option, value, "--url", es_url))[0] == 2
    status, out, err = await odm("apply", f"{models}:PostV2", "--server-side", "--transform", f"{models}:rename", "--url", es_url)
    assert (status, out) == (2, "") and "--server-side copies each _source as it is: it cannot run --transform" in err
    status, out, err = await odm("plan", f"{models}:NoName", "--url", es_url)  # a class with no Index.name
    assert (status, out) == (2, "") and err == f"error: {models}:NoName has no Index.name: the commands work on the index a class names\n"


async def test_prune_of_a_class_that_is_not_versioned_deletes_nothing(
    odm_client: AsyncElasticsearch, models: str, index_prefix: str, es_url: str
) -> None:
    plain = isolated(migrate_models.Unversioned, index_prefix).index_name()
    await odm_client.index(index=f"{plain}-v1", id="kept", document={"name": "kept"}, refresh=True)
    status, out, err = await odm(
        "prune", f"{models}:Unversioned", "--keep", "0", "--url", es_url, "--state-index", index_prefix + "odm-migrations"
    )
    assert (status, out) == (3, "") and "Unversioned is not versioned (Index.versioned): nothing to prune" in err
    assert (await odm_client.get(index=f"{plain}-v1", id="kept"))["found"]


def test_ctrl_c_during_apply_says_what_to_resume_and_exits_130(tmp_path: Path, index_prefix: str, es_url: str) -> None:
    """SIGINT in the copy: no traceback, the lock released, the phase named; resume finishes the migration."""
    (tmp_path / "sigint_models.py").write_text(
        "import os, signal\n"
        "from odm.testing.isolation import isolated\n"
        "from tests.integration.migrate_models import PostV1, PostV2, rename\n"
        f"Post = isolated(PostV1, {index_prefix!r})\n"
        f"PostNext = isolated(PostV2, {index_prefix!r})\n"
        "Post.__module__ = PostNext.__module__ = __name__\n"
        "def rename_interrupted(source):\n"
        "    if source['name'] == 'post 25' and os.environ.get('ODM_TEST_SIGINT'):\n"
        "        os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C in the terminal\n"
        "    return rename(source)\n"
    )
    state_index = index_prefix + "odm-migrations"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    common = ["--url", es_url, "--state-index", state_index]

    def odm_process(*argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "odm", *argv, *common], capture_output=True, text=True, env={**env, **extra},
            timeout=120, preexec_fn=sigint_as_default,
        )

    assert odm_process("apply", "sigint_models:Post").returncode == 0
    lines = "".join(f'{{"index":{{"_id":"p{n}"}}}}\n{{"name":"post {n}","views":{n}}}\n' for n in range(60))
    request = urllib.request.Request(
        f"{es_url}/{index_prefix}mig-posts/_bulk?refresh=true", data=lines.encode(), method="POST",
        headers={"Content-Type": "application/x-ndjson"},
    )
    urllib.request.urlopen(request).read()
    transform = ["--transform", "sigint_models:rename_interrupted"]
    done = odm_process("apply", "sigint_models:PostNext", *transform, "--page-size", "10", ODM_TEST_SIGINT="1")
    assert done.returncode == 130 and "Traceback" not in done.stderr, done.stderr
    assert f"error: interrupted: the migration of '{index_prefix}mig-posts' stopped at phase 'copying'; " \
        "the lock is released: run `odm resume` to finish it" in done.stderr, done.stderr
    lock = urllib.request.Request(f"{es_url}/{state_index}/_doc/lock:{index_prefix}mig-posts", method="HEAD")
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(lock)
    resumed = odm_process("resume", "sigint_models:PostNext", *transform)
    assert resumed.returncode == 0, resumed.stderr  # from the checkpoint: the counts go on from it
    assert resumed.stdout.startswith(
        f"{index_prefix}mig-posts: migrated {index_prefix}mig-posts-v1 -> {index_prefix}mig-posts-v2: "
        "60 copied of 60, 0 caught up, 0 invalid, 0 dropped in "
    ), resumed.stdout


def test_a_held_lock_exits_4_from_a_process(tmp_path: Path, index_prefix: str, es_url: str) -> None:
    (tmp_path / "cli_models.py").write_text(
        "from odm.testing.isolation import isolated\n"
        "from tests.integration.migrate_models import PostV1\n"
        f"Post = isolated(PostV1, {index_prefix!r})\n"
        "Post.__module__ = __name__\n"
    )
    state_index = index_prefix + "odm-migrations"
    subprocess.run(
        [sys.executable, "-c", "import urllib.request as r, json, time;"
         f"u={es_url!r}+'/{state_index}/_doc/lock:{index_prefix}mig-posts?refresh=true';"
         "q=r.Request(u, data=json.dumps({'owner':'elsewhere:1:abc','expires_at':time.time()+600}).encode(),"
         "method='PUT', headers={'Content-Type':'application/json'}); r.urlopen(q)"],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    done = subprocess.run(
        [sys.executable, "-m", "odm", "apply", "cli_models:Post", "--url", es_url, "--state-index", state_index],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 4 and done.stdout == "", done.stderr
    assert done.stderr.strip().startswith(
        f"error: migration of '{index_prefix}mig-posts': the lock is held by elsewhere:1:abc"
    )


async def test_apply_server_side_without_the_reindex_module_fails_and_does_nothing(
    odm_client: AsyncElasticsearch, models: str, index_prefix: str, es_url: str, es_node: NodeInfo
) -> None:
    if "reindex" in es_node.modules:
        pytest.skip("the test node has the Elasticsearch module reindex")
    alias = index_prefix + "mig-posts"
    common = ["--url", es_url, "--state-index", index_prefix + "odm-migrations"]
    assert (await odm("apply", f"{models}:PostV1", *common))[0] == 0
    status, out, err = await odm("apply", f"{models}:PostV2", "--server-side", *common)
    assert (status, out) == (3, "")
    assert f"error: PostV2: migration of '{alias}': server_side=True needs Elasticsearch's module reindex" in err
    assert not await odm_client.indices.exists(index=f"{alias}-v2")
