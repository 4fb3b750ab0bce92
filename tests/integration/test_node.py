"""The throwaway Elasticsearch node: a real server, its fixtures, and a clean stop."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import uuid
from pathlib import Path

import elasticsearch
import pytest

from odm.connections import async_connections
from odm.testing import NodeInfo
from odm.testing._cleanup import delete_prefixed
from odm.testing._http import request_json
from tests.integration.signals import sigint_as_default

pytest_plugins = ["pytester"]


def test_node_is_up_with_the_client_major_version_and_reports_modules(es_node: NodeInfo) -> None:
    assert es_node.version.split(".")[0] == elasticsearch.__versionstr__.split(".")[0] == "9"  # type: ignore[attr-defined]
    assert "transport-netty4" in es_node.modules
    status, health = request_json("GET", f"{es_node.url}/_cluster/health")
    assert status == 200 and health["status"] in ("green", "yellow")
    status, nodes = request_json("GET", f"{es_node.url}/_nodes/_local/plugins")
    (node,) = nodes["nodes"].values()
    assert {m["name"] for m in node["modules"]} == es_node.modules


async def test_index_and_search_one_document(odm_client: elasticsearch.AsyncElasticsearch, index_prefix: str) -> None:
    assert async_connections.get_connection() is odm_client
    index = f"{index_prefix}docs"
    await odm_client.index(index=index, id="1", document={"title": "hello odm"}, refresh=True)
    found = await odm_client.search(index=index, query={"match": {"title": "odm"}})
    assert found["hits"]["total"]["value"] == 1
    assert found["hits"]["hits"][0]["_source"] == {"title": "hello odm"}
    missed = await odm_client.search(index=index, query={"match": {"title": "absent"}})
    assert missed["hits"]["total"]["value"] == 0


def test_index_prefix_is_unique_and_lowercase(index_prefix: str) -> None:
    assert re.fullmatch(r"odm-t-[0-9a-f]{8}-", index_prefix)


CREATES_UNDER_PREFIX = """
import pathlib
from odm.testing._http import request_json

def test_creates_then_fails(index_prefix, es_url):
    pathlib.Path("prefix.txt").write_text(index_prefix)
    p = index_prefix
    for method, path, body in [
        ("PUT", f"/{p}plain", None),
        ("PUT", f"/{p}hidden", {"settings": {"index.hidden": True}}),
        ("PUT", f"/_index_template/{p}tpl", {"index_patterns": [f"{p}tpl-*"]}),
        ("PUT", f"/_component_template/{p}comp", {"template": {"settings": {"number_of_replicas": 0}}}),
        ("PUT", f"/_template/{p}legacy", {"index_patterns": [f"{p}legacy-*"]}),
    ]:
        status, answer = request_json(method, es_url + path, body)
        assert status == 200, answer
    raise AssertionError("fails on purpose: clean-up must still happen")
"""


def test_index_prefix_teardown_deletes_everything_under_the_prefix_only(
    pytester: pytest.Pytester, es_url: str
) -> None:
    keep = f"odm-keep-{uuid.uuid4().hex[:8]}-"
    assert request_json("PUT", f"{es_url}/{keep}index")[0] == 200
    try:
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(test_inner=CREATES_UNDER_PREFIX)
        pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(failed=1)
        prefix = (pytester.path / "prefix.txt").read_text()
        pattern = f"{prefix}*"
        assert request_json("GET", f"{es_url}/_cat/indices/{pattern}?format=json&expand_wildcards=all")[1] == []
        templates = request_json("GET", f"{es_url}/_index_template/{pattern}")
        assert templates[0] == 404 or templates[1]["index_templates"] == []
        components = request_json("GET", f"{es_url}/_component_template/{pattern}")
        assert components[0] == 404 or components[1]["component_templates"] == []
        assert request_json("GET", f"{es_url}/_template/{pattern}")[1] == {}
        assert request_json("GET", f"{es_url}/{keep}index")[0] == 200
    finally:
        delete_prefixed(es_url, keep)
    assert request_json("GET", f"{es_url}/{keep}index")[0] == 404


REQUIRES_MODULES = """
import pytest

@pytest.mark.requires_module("transport-netty4")
def test_present():
    pass

@pytest.mark.requires_module("no-such-module")
def test_absent():
    raise AssertionError("must have been skipped")
"""


def test_requires_module_skips_only_when_the_node_lacks_it(pytester: pytest.Pytester, es_node: NodeInfo) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_inner=REQUIRES_MODULES)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--strict-markers", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*lacks the module(s) no-such-module*"])


# -- no orphans: `python -m odm.testing` stopped by a signal -----------------------------------------


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgrp, start time) of ``pid`` from /proc, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def _descendants(root: int) -> dict[int, int]:
    """Every process below ``root``, as pid -> start time."""
    parents: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = (info[1], info[3])
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, (ppid, started) in parents.items():
            if ppid == pid and child not in found:
                found[child] = started
                frontier.append(child)
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _still_running(pid: int, started: int) -> bool:
    info = _stat(pid)
    return info is not None and info[0] != "Z" and info[3] == started


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (info := _stat(int(entry.name))) is not None:
            if info[2] == pgid and info[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find the node's processes")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL to the parent"])
def test_python_m_odm_testing_leaves_no_java_process_behind(how: str, tmp_path: Path) -> None:
    stderr = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "odm.testing"], stdout=subprocess.PIPE, stderr=stderr, text=True,
        preexec_fn=sigint_as_default,
    )
    try:
        announced = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            announced[key] = value
            if key == "ODM_ES_MODULES":
                break
        assert "ODM_ES_URL" in announced, (tmp_path / "stderr.txt").read_text()
        url = announced["ODM_ES_URL"]
        assert announced["ODM_ES_VERSION"].startswith("9.")
        assert request_json("GET", f"{url}/_cluster/health")[0] == 200

        javas = {pid: t for pid, t in _descendants(proc.pid).items() if _cmdline(pid)[0].endswith("/java")}
        assert len(javas) >= 2, "expected the launcher JVM and the server JVM"
        (pgid,) = {info[2] for pid in javas if (info := _stat(pid)) is not None}
        tmpdirs = [a.split("=", 1)[1] for pid in javas for a in _cmdline(pid) if a.startswith("-Djava.io.tmpdir=")]
        run_dir = Path(tmpdirs[0]).parent
        assert run_dir.is_dir()

        if how == "SIGKILL to the parent":
            proc.kill()
        else:
            proc.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGINT)
        returncode = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        stderr.close()

    if how == "SIGKILL to the parent":
        # Nothing in the killed parent can clean up: the parent-death signal makes
        # the launcher stop the server; give it the same bound as a normal stop.
        deadline = time.monotonic() + 60
        while any(_still_running(pid, t) for pid, t in javas.items()) and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        assert returncode == 0, (tmp_path / "stderr.txt").read_text()
        assert not run_dir.exists()
    assert [pid for pid, t in javas.items() if _still_running(pid, t)] == []
    assert _group_members(pgid) == []
    with pytest.raises(urllib.error.URLError):
        request_json("GET", f"{url}/_cluster/health", timeout=5)
