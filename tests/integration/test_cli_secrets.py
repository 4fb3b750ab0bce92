"""The ``odm`` command keeps secrets out of its output and its command line, on the real node.

Every connecting command (``status``, ``check``, ``plan``, ``prune``, ``load``) against a
node that cannot be reached, or with a malformed URL, prints one ``error:`` line with the
URL's password replaced by ``***``, and no traceback. The API key is never taken from argv.
The command reads the same variables as ``odm.fastapi`` (``ODM_ES_USERNAME``).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from odm.cli import parser, run
from odm.cli._common import client_from, connection_settings

MODELS = '''
from typing import Annotated
from odm import AsyncDocument, Keyword

class Thing(AsyncDocument):
    name: Annotated[str, Keyword()]

    class Index:
        name = {name!r}
        versioned = True
        settings = {{"number_of_shards": 1, "number_of_replicas": 0}}
'''
PASSWORD = "hunter2-pw"
KEY = "c2VjcmV0LWtleS12YWx1ZQ=="


@pytest.fixture
def models(tmp_path: Path, index_prefix: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "secret_models_" + index_prefix.replace("-", "_").rstrip("_")
    (tmp_path / f"{name}.py").write_text(MODELS.format(name=index_prefix + "things"))
    (tmp_path / "things.jsonl").write_text('{"name": "a"}\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for variable in ("ODM_ES_URL", "ODM_ES_USERNAME", "ODM_ES_PASSWORD", "ODM_ES_API_KEY", "ODM_ES_USER"):
        monkeypatch.delenv(variable, raising=False)
    return name


async def odm(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await run(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def commands(models: str) -> list[list[str]]:
    return [
        ["status", models], ["check", models], ["plan", f"{models}:Thing"], ["prune", f"{models}:Thing"],
        ["load", f"{models}:Thing", "things.jsonl"], ["load", f"{models}:Thing", "things.jsonl", "--init"],
    ]


async def test_an_unreachable_node_is_named_without_its_password(models: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for command in commands(models):
        status, out, err = await odm(*command, "--url", f"http://ops:{PASSWORD}@127.0.0.1:9")
        assert (status, out) == (3, ""), (command, err)
        assert err.startswith("error: cannot reach Elasticsearch at http://ops:***@127.0.0.1:9: "), (command, err)
        assert err.count("\n") == 1 and PASSWORD not in err, (command, err)
    # The same with the credentials from the environment, and a key in a file.
    monkeypatch.setenv("ODM_ES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ODM_ES_USERNAME", "ops")
    monkeypatch.setenv("ODM_ES_PASSWORD", PASSWORD)
    status, out, err = await odm("status", models)
    assert status == 3 and PASSWORD not in out + err and "Elasticsearch at http://127.0.0.1:9:" in err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"http://ops:{PASSWORD}@127.0.0.1:port", "'http://***@127.0.0.1:port'"),  # was a traceback ending in the URL
        (f"http//ops:{PASSWORD}@127.0.0.1:9200", "'***@127.0.0.1:9200'"),  # a missing colon: the whole URL was shown
        (f"ftp://ops:{PASSWORD}@127.0.0.1", "'ftp://ops:***@127.0.0.1'"),
        (f"ops:{PASSWORD}@127.0.0.1:9200", "'***@127.0.0.1:9200'"),
        ("http://:9200", "'http://:9200'"),
    ],
)
async def test_a_malformed_url_is_one_line(models: str, url: str, shown: str) -> None:
    for command in commands(models):
        status, out, err = await odm(*command, "--url", url)
        assert (status, out) == (2, ""), (command, err)
        assert err.startswith("error: url ") and err.count("\n") == 1 and shown in err, err
        assert PASSWORD not in err


def test_a_malformed_url_through_python_m_odm(models: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()]),
           "ODM_ES_URL": f"https://ops:{PASSWORD}@es.internal:92OO"}
    done = subprocess.run([sys.executable, "-m", "odm", "status", models], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: url is not a valid URL (its host or port cannot be read): 'https://***@es.internal:92OO'\n"


async def test_the_api_key_is_not_taken_from_argv(models: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in commands(models):
        status, out, err = await odm(*command, "--api-key", KEY)
        assert status == 2, command
        printed = capsys.readouterr()  # argparse writes its usage errors to sys.stderr
        assert "--api-key is not taken on the command line" in printed.err and KEY not in printed.err + out + err


async def test_the_api_key_from_a_file_stdin_or_the_environment(
    models: str, es_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test node runs without security: it answers whatever key is sent. So the key the client
    # sends (its Authorization header) is checked here, and then that the commands work with it.
    (tmp_path / "key").write_text(KEY + "\n")
    args = parser().parse_args(["status", models, "--url", es_url, "--api-key-file", "key"])
    args.settings = connection_settings(args)
    client = client_from(args)
    assert client._headers["authorization"] == f"ApiKey {KEY}"
    await client.close()
    assert (await odm("status", models, "--url", es_url, "--api-key-file", "key"))[0] == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    assert (await odm("status", models, "--url", es_url, "--api-key-file", "-"))[0] == 0
    monkeypatch.setenv("ODM_ES_API_KEY", KEY)
    assert (await odm("status", models, "--url", es_url))[0] == 0
    status, out, err = await odm("status", models, "--url", es_url, "--api-key-file", "missing")
    assert (status, out, err) == (2, "", "error: --api-key-file missing: No such file or directory\n")
    (tmp_path / "empty").write_text("\n")
    assert (await odm("status", models, "--url", es_url, "--api-key-file", "empty"))[2] == (
        "error: --api-key-file empty: no key in it\n"
    )


async def test_the_command_reads_the_variables_odm_fastapi_reads(
    models: str, es_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODM_ES_URL", es_url)
    monkeypatch.setenv("ODM_ES_USERNAME", "ops")
    monkeypatch.setenv("ODM_ES_PASSWORD", PASSWORD)
    assert (await odm("status", models))[0] == 0
    monkeypatch.delenv("ODM_ES_PASSWORD")
    status, out, err = await odm("status", models)  # a user without a password is refused, as by OdmSettings
    assert (status, err) == (2, "error: username and password go together: give both or neither\n")
    monkeypatch.delenv("ODM_ES_USERNAME")
    monkeypatch.setenv("ODM_ES_USER", "ops")  # the name the command read before: refused, not ignored
    status, out, err = await odm("status", models)
    assert (status, err) == (2, "error: ODM_ES_USER is not read: set ODM_ES_USERNAME (the odm command and "
                                "odm.fastapi read the same variables)\n")


async def test_a_missing_ca_bundle_is_one_line(models: str) -> None:
    status, out, err = await odm("status", models, "--url", f"https://ops:{PASSWORD}@127.0.0.1:9", "--ca-certs", "nope.pem")
    assert (status, out, err) == (2, "", "error: the CA bundle 'nope.pem' (--ca-certs, $ODM_ES_CA_CERTS) is not a file\n")  # was a traceback
