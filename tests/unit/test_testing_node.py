"""odm.testing's node hooks without a JVM: generated settings, heap, data_dir checks, kill when idle."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from odm.testing import ElasticsearchNode, NodeError
from odm.testing._distribution import Distribution
from odm.testing._node import _check_traversable, _settings_yaml


def fake_distribution(tmp_path: Path, *modules: str) -> Distribution:
    home = tmp_path / "es"
    for module in modules:
        (home / "modules" / module).mkdir(parents=True)
    (home / "modules").mkdir(parents=True, exist_ok=True)
    return Distribution("9.5.4", home)


def parse(yaml: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in yaml.splitlines())


def test_generated_settings_by_default(tmp_path: Path) -> None:
    dist = fake_distribution(tmp_path, "x-pack-security")
    settings = parse(_settings_yaml(dist, tmp_path / "run", tmp_path / "run" / "data", {}))
    assert settings["discovery.type"] == '"single-node"'
    assert settings["path.data"] == f'"{tmp_path / "run" / "data"}"'
    assert settings["xpack.security.enabled"] == "false"
    assert settings["http.port"] == settings["transport.port"] == "0"


def test_settings_are_merged_over_the_generated_ones_and_none_removes_one(tmp_path: Path) -> None:
    dist = fake_distribution(tmp_path, "x-pack-security")
    overrides = {
        "discovery.type": None,
        "node.name": "n1",
        "discovery.seed_hosts": ["127.0.0.1:9301", "127.0.0.1:9302"],
        "xpack.security.enabled": True,
        "node.attr.zone": {"a": 1},
    }
    yaml = _settings_yaml(dist, tmp_path / "run", tmp_path / "data", overrides)
    settings = parse(yaml)
    assert "discovery.type" not in settings
    assert settings["node.name"] == '"n1"'
    assert settings["discovery.seed_hosts"] == '["127.0.0.1:9301", "127.0.0.1:9302"]'
    assert settings["xpack.security.enabled"] == "true"
    assert settings["node.attr.zone"] == '{"a": 1}'
    assert settings["path.data"] == f'"{tmp_path / "data"}"'
    assert yaml.count("xpack.security.enabled") == 1


def test_heap_and_settings_are_kept_for_each_start(tmp_path: Path) -> None:
    node = ElasticsearchNode(heap="256m", settings={"node.name": "a"}, data_dir=tmp_path / "data")
    assert node._heap == "-Xms256m -Xmx256m"
    assert ElasticsearchNode()._heap == "-Xms512m -Xmx1g"
    node.settings["node.name"] = "b"  # read again at the next start
    assert node.settings == {"node.name": "b"}
    assert node.data_dir == tmp_path / "data"
    assert ElasticsearchNode().data_dir is None


def test_kill_and_stop_of_a_node_that_never_started_do_nothing() -> None:
    node = ElasticsearchNode()
    node.kill()
    node.stop()
    assert node.pid is None and node.run_dir is None and node.transport_address is None
    with pytest.raises(NodeError, match="not running"):
        node.url


def test_a_data_dir_nobody_cannot_reach_is_refused_with_its_parent_named() -> None:
    with tempfile.TemporaryDirectory() as base:  # pytest's tmp_path is itself private (0700)
        private = Path(base).resolve()
        os.chmod(private, 0o700)
        with pytest.raises(NodeError, match=f"parent {private} is not traversable"):
            _check_traversable(private / "data")
        os.chmod(private, 0o711)
        _check_traversable(private / "data")  # only traversal is needed: nobody owns the data dir itself
