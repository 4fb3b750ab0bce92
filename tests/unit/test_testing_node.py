"""odm.testing without a JVM: generated settings, heap, data_dir checks, kill when idle, the secure setup."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from odm.testing import ElasticsearchNode, NodeError, NodeInfo
from odm.testing._distribution import Distribution
from odm.testing._node import _check_traversable, _settings_yaml
from odm.testing._secure import SecureSetup, pbkdf2_hash


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


def test_pbkdf2_hash_is_in_the_format_elasticsearch_reads() -> None:
    salt = bytes(range(32))
    hashed = pbkdf2_hash("s3cret-pass", salt=salt)
    prefix, salt64, key64 = hashed.split("$")
    assert prefix == "{PBKDF2}10000"
    assert base64.b64decode(salt64) == salt and len(salt64) == len(key64) == 44  # what Hasher slices on
    expected = hashlib.pbkdf2_hmac("sha512", b"s3cret-pass", salt, 10_000, dklen=32)
    assert base64.b64decode(key64) == expected
    assert pbkdf2_hash("s3cret-pass") != pbkdf2_hash("s3cret-pass")  # a fresh salt each time


def test_secure_setup_writes_certificates_and_the_user_and_hides_the_password(tmp_path: Path) -> None:
    setup = SecureSetup("odm-admin", "a-known-password")
    config = tmp_path / "config"
    config.mkdir()
    ca = setup.write(config)
    assert ca == tmp_path / "ca.crt" and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert (config / "certs" / "ca.crt").read_bytes() == ca.read_bytes()
    assert "PRIVATE KEY" in (config / "certs" / "http.key").read_text()
    user, hashed = (config / "users").read_text().strip().split(":", 1)
    assert user == "odm-admin" and hashed.startswith("{PBKDF2}") and "a-known-password" not in hashed
    assert (config / "users_roles").read_text() == "superuser:odm-admin\n"
    settings = setup.settings()
    assert settings["xpack.security.http.ssl.enabled"] is True
    assert settings["xpack.security.http.ssl.certificate_authorities"] == ["certs/ca.crt"]
    assert setup.basic_auth == ("odm-admin", "a-known-password")
    assert "a-known-password" not in repr(setup)
    assert len(SecureSetup("u", None).basic_auth[1]) >= 20  # random by default
    with pytest.raises(ValueError):
        SecureSetup("a:b", None)
    with pytest.raises(ValueError):
        SecureSetup("odm-admin", "short")


def test_node_info_keeps_the_password_out_of_repr_and_gives_client_options(tmp_path: Path) -> None:
    info = NodeInfo("https://127.0.0.1:1", "9.5.4", frozenset(), ca_certs=tmp_path / "ca.crt",
                    basic_auth=("odm-admin", "hush-hush"))
    assert "hush-hush" not in repr(info) and "ca_certs=" in repr(info)
    assert info.client_options() == {
        "hosts": ["https://127.0.0.1:1"], "ca_certs": str(tmp_path / "ca.crt"), "basic_auth": ("odm-admin", "hush-hush")
    }
    assert NodeInfo("http://127.0.0.1:1", "9.5.4", frozenset()).client_options() == {"hosts": ["http://127.0.0.1:1"]}


def test_a_secure_node_reads_https_and_a_plain_one_http() -> None:
    assert ElasticsearchNode(secure=True)._secure is not None
    assert ElasticsearchNode()._secure is None
