"""Every benchmark in benchmarks/ runs to its end with ``--quick``, so none rots unnoticed.

Only completion and each benchmark's own assertions (the answers agree, every document
was written, the migration copied them all) are checked: timings are printed, never
asserted. The benchmarks that need a node use the test node (``ODM_ES_URL``) and put
their indices under this test's prefix (``ODM_BENCH_INDEX_PREFIX``), deleted afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmarks

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = sorted(path.stem for path in (ROOT / "benchmarks").glob("*.py") if not path.stem.startswith("_"))


def test_every_benchmark_is_found_and_named_by_the_run_script() -> None:
    assert {"client_side", "end_to_end", "faults", "client_ids", "aggregations", "migration"} <= set(BENCHMARKS)
    usage = (ROOT / "benchmarks" / "run").read_text()
    for name in BENCHMARKS:
        assert re.search(rf"\b{name}\b", usage), f"benchmarks/run does not name {name}"


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_benchmark_runs_with_quick(name: str, es_url: str, index_prefix: str) -> None:
    env = {**os.environ, "ODM_ES_URL": es_url, "ODM_BENCH_INDEX_PREFIX": index_prefix}
    run = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, f"benchmarks/{name}.py --quick failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    assert "| --- |" in run.stdout or "| --- " in run.stdout, run.stdout  # it printed its tables
    assert "Traceback" not in run.stderr, run.stderr
