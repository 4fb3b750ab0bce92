"""Which Elasticsearch to run, and getting it into a local cache, once.

The server is Maven Central's ``integ-test-zip`` distribution (the only 9.x server
build published there). It is fetched with ``mvn`` when that is on PATH, else over
HTTPS, unpacked into a temporary directory, checked, marked complete and renamed into
``<cache>/elasticsearch-<version>/`` in one atomic step, all under a file lock, so a
crash or a concurrent run never leaves a half-unpacked tree that looks usable.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from odm.testing._errors import DistributionError

__all__ = [
    "KNOWN_VERSIONS",
    "Distribution",
    "Fetcher",
    "candidate_versions",
    "default_cache_root",
    "fetch_over_https",
    "fetch_with_maven",
    "fetch_zip",
    "install",
    "installed",
    "resolve_distribution",
]

KNOWN_VERSIONS: tuple[str, ...] = (
    "9.5.4",
    "9.5.3",
    "9.5.2",
    "9.5.0",
    "9.4.6",
    "9.4.5",
    "9.4.3",
    "9.3.2",
    "9.2.0",
)
"""Versions whose integ-test zip is on Maven Central, newest first.

Maven Central's ``maven-metadata.xml`` for this artifact does not list 9.x, so the
versions cannot be discovered; extend this list when a new release is published.
"""

MAVEN_REPOSITORY = "https://repo1.maven.org/maven2"
_GROUP = "org.elasticsearch.distribution.integ-test-zip"
_ARTIFACT = "elasticsearch"
_MARKER = ".odm-complete"
_RECORD = "resolved-version"
_ROOT_CACHE = Path("/var/cache/odm")


@dataclass(frozen=True)
class Distribution:
    """An unpacked, complete Elasticsearch distribution in the cache."""

    version: str
    home: Path

    @property
    def bundled_modules(self) -> frozenset[str]:
        """Names of the modules shipped in ``<home>/modules``."""
        return frozenset(p.name for p in (self.home / "modules").iterdir() if p.is_dir())


class Fetcher(Protocol):
    """Puts the zip of ``version`` into ``dest`` and returns its path.

    ``fresh`` asks to bypass any intermediate cache (such as ``~/.m2``), because the
    previous copy was corrupt. Raises ``DistributionError`` when it cannot.
    """

    def __call__(self, version: str, dest: Path, *, fresh: bool) -> Path: ...


def default_cache_root(environ: Mapping[str, str], *, as_root: bool) -> Path:
    """Where distributions are cached: ``$ODM_CACHE_DIR``, else a per-user cache.

    Root gets ``/var/cache/odm`` rather than ``/root/.cache/odm``: the node runs as
    ``nobody``, which cannot traverse ``/root`` (mode 0700).
    """
    explicit = environ.get("ODM_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if as_root:
        return _ROOT_CACHE
    base = environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "odm"


def candidate_versions(requested: str | None, recorded: str | None, client_version: str) -> list[str]:
    """Versions to try, in order.

    Args:
        requested: ``ODM_ES_VERSION`` or an explicit argument: the only candidate.
        recorded: the version a previous run resolved, tried first when it still
            matches the client's major version.
        client_version: the installed ``elasticsearch`` client's version; only
            servers of its major version are candidates.

    Raises:
        DistributionError: no known version matches the client's major version.
    """
    if requested:
        return [requested]
    major = client_version.split(".")[0]
    known = [v for v in KNOWN_VERSIONS if v.split(".")[0] == major]
    if not known:
        raise DistributionError(
            f"no known Elasticsearch {major}.x version for client {client_version}; "
            "set ODM_ES_VERSION to one whose integ-test zip is on Maven Central"
        )
    if recorded in known:
        known.remove(recorded)
        known.insert(0, recorded)
    return known


def resolve_distribution(
    version: str | None,
    cache_root: Path,
    *,
    fetch: Fetcher | None = None,
    environ: Mapping[str, str] | None = None,
) -> Distribution:
    """Return a complete distribution from the cache, fetching one if needed.

    Args:
        version: an exact version; defaults to ``ODM_ES_VERSION``, then the version a
            previous run recorded, then :data:`KNOWN_VERSIONS`, newest first.
        cache_root: the cache directory (created if missing).
        fetch: how to get a zip; defaults to :func:`fetch_zip`.
        environ: the environment to read ``ODM_ES_VERSION`` from.

    Raises:
        DistributionError: no candidate version could be fetched and unpacked.
    """
    env = os.environ if environ is None else environ
    requested = version or env.get("ODM_ES_VERSION") or None
    if not cache_root.is_dir():
        cache_root.mkdir(parents=True)
        cache_root.chmod(0o755)  # whatever the umask: the node's user must traverse it
    with _locked(cache_root):
        for stale in cache_root.glob(".unpack-*"):
            shutil.rmtree(stale, ignore_errors=True)
        record = cache_root / _RECORD
        recorded = record.read_text().strip() if record.is_file() else None
        failures: list[str] = []
        for candidate in candidate_versions(requested, recorded, _client_version()):
            try:
                dist = installed(candidate, cache_root) or install(candidate, cache_root, fetch or fetch_zip)
            except DistributionError as exc:
                failures.append(f"{candidate}: {exc}")
                continue
            if requested is None and candidate != recorded:
                record.write_text(candidate + "\n")
            return dist
    raise DistributionError("could not fetch Elasticsearch:\n  " + "\n  ".join(failures))


def installed(version: str, cache_root: Path) -> Distribution | None:
    """The cached distribution of ``version`` if complete; an incomplete one is deleted."""
    home = cache_root / f"elasticsearch-{version}"
    if not home.exists():
        return None
    if _is_complete(home, version):
        return Distribution(version, home)
    shutil.rmtree(home)
    return None


def install(version: str, cache_root: Path, fetch: Fetcher) -> Distribution:
    """Fetch and unpack ``version`` into ``cache_root``; a corrupt zip is fetched once more.

    Raises:
        DistributionError: the fetch failed, or the zip was corrupt twice.
    """
    downloads = cache_root / "downloads"
    downloads.mkdir(mode=0o755, exist_ok=True)
    problems: list[str] = []
    for fresh in (False, True):
        zip_path = fetch(version, downloads, fresh=fresh)
        try:
            return _unpack(zip_path, version, cache_root)
        except (zipfile.BadZipFile, EOFError, zlib.error, DistributionError) as exc:
            problems.append(f"{zip_path.name}: {exc}")
        finally:
            zip_path.unlink(missing_ok=True)
    raise DistributionError("corrupt download, twice: " + "; ".join(problems))


def fetch_zip(version: str, dest: Path, *, fresh: bool) -> Path:
    """The default :class:`Fetcher`: ``mvn`` when on PATH, else (or if it fails) HTTPS."""
    failures: list[str] = []
    if shutil.which("mvn"):
        try:
            return fetch_with_maven(version, dest, fresh=fresh)
        except DistributionError as exc:
            failures.append(str(exc))
    try:
        return fetch_over_https(version, dest, fresh=fresh)
    except DistributionError as exc:
        failures.append(str(exc))
    raise DistributionError("; ".join(failures))


def fetch_with_maven(version: str, dest: Path, *, fresh: bool) -> Path:
    """Copy the zip into ``dest`` with ``mvn dependency:copy`` (honours settings.xml).

    With ``fresh``, Maven uses a throwaway local repository so that a corrupt copy
    in ``~/.m2`` is not reused.
    """
    coords = f"{_GROUP}:{_ARTIFACT}:{version}:zip"
    cmd = ["mvn", "-B", "-q", "dependency:copy", f"-Dartifact={coords}", f"-DoutputDirectory={dest}",
           "-Dmdep.overWriteReleases=true"]
    with tempfile.TemporaryDirectory(dir=dest, prefix="m2-") as scratch_repo:
        if fresh:
            cmd.append(f"-Dmaven.repo.local={scratch_repo}")
        result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    target = dest / f"{_ARTIFACT}-{version}.zip"
    if result.returncode != 0 or not target.is_file():
        errors = [line for line in result.stdout.splitlines() if line.startswith("[ERROR]")]
        raise DistributionError(f"mvn could not fetch {coords}: {' '.join(errors[:2]) or result.returncode}")
    return target


def fetch_over_https(version: str, dest: Path, *, fresh: bool = True) -> Path:
    """Download the zip from Maven Central into ``dest`` with urllib.

    The size is checked against Content-Length, and the content against the
    ``.sha512`` or ``.sha1`` file next to it when Maven Central has one (for the 9.x
    integ-test zips it has neither, so the unpack's CRC checks are what remain).
    ``fresh`` is accepted for the :class:`Fetcher` protocol: this always downloads.
    """
    url = f"{MAVEN_REPOSITORY}/{_GROUP.replace('.', '/')}/{_ARTIFACT}/{version}/{_ARTIFACT}-{version}.zip"
    part = dest / f"{_ARTIFACT}-{version}.zip.part"
    digests = {"sha512": hashlib.sha512(), "sha1": hashlib.sha1()}
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, part.open("wb") as out:
            expected = resp.headers.get("Content-Length")
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                for digest in digests.values():
                    digest.update(chunk)
        size = part.stat().st_size
        if expected is not None and int(expected) != size:
            raise DistributionError(f"{url}: got {size} of {expected} bytes")
        published = _published_checksum(url)
        if published is not None and digests[published[0]].hexdigest() != published[1]:
            raise DistributionError(f"{url}: {published[0]} checksum mismatch")
    except urllib.error.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise DistributionError(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, DistributionError) as exc:
        part.unlink(missing_ok=True)
        raise DistributionError(str(exc)) from exc
    target = dest / f"{_ARTIFACT}-{version}.zip"
    os.replace(part, target)
    return target


def _published_checksum(url: str) -> tuple[str, str] | None:
    for algorithm in ("sha512", "sha1"):
        try:
            with urllib.request.urlopen(f"{url}.{algorithm}", timeout=30) as resp:
                return algorithm, resp.read().decode().split()[0].lower()
        except (urllib.error.URLError, OSError, IndexError):
            continue
    return None


def _client_version() -> str:
    return importlib.metadata.version("elasticsearch")


def _is_complete(home: Path, version: str) -> bool:
    marker = home / _MARKER
    try:
        recorded = json.loads(marker.read_text())["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(recorded == version and (home / "bin" / "elasticsearch").is_file())


def _unpack(zip_path: Path, version: str, cache_root: Path) -> Distribution:
    """Extract (checking every member's CRC), mark complete, then rename into place."""
    scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache_root))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.infolist():
                extracted = archive.extract(member, scratch)
                executable = member.is_dir() or (member.external_attr >> 16) & 0o111
                os.chmod(extracted, 0o755 if executable else 0o644)
        unpacked = scratch / f"elasticsearch-{version}"
        if not (unpacked / "bin" / "elasticsearch").is_file():
            raise DistributionError(f"{zip_path.name} holds no elasticsearch-{version}/bin/elasticsearch")
        for dirpath, _dirnames, _filenames in os.walk(unpacked):
            os.chmod(dirpath, 0o755)
        (unpacked / _MARKER).write_text(json.dumps({"version": version}))
        home = cache_root / unpacked.name
        os.rename(unpacked, home)
        return Distribution(version, home)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def _locked(cache_root: Path) -> Iterator[None]:
    with (cache_root / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
