"""The README's demo runs end to end on the test node and finds what it should."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"


async def test_demo_indexes_installed_distributions_and_searches_them(
    odm_client: AsyncElasticsearch, index_prefix: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ODM_INDEX_PREFIX", index_prefix)
    spec = importlib.util.spec_from_file_location("odm_demo", DEMO)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "odm_demo", demo)  # pydantic resolves annotations through it
    spec.loader.exec_module(demo)
    await demo.main()
    out = capsys.readouterr().out
    assert "0 failed, 0 not attempted" in out
    assert "aiohttp" in out  # the top 'http client' hit
    assert "pydantic" in out.split("Who depends on pydantic-core?")[1]
    assert "get('pydantic') -> Package" in out
    stored = await odm_client.count(index=index_prefix + "demo-packages")
    assert stored["count"] == len(list(demo.installed_packages())) > 10
