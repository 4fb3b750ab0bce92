"""Every example in docs/examples runs against the real node, and its page shows it verbatim."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from elasticsearch import AsyncElasticsearch

from odm.testing import NodeInfo

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves string annotations through it
    spec.loader.exec_module(module)
    return module


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_shown_verbatim_on_a_page(path: Path) -> None:
    source = path.read_text().strip()
    pages = [page.name for page in DOCS.glob("*.md") if source in page.read_text()]
    assert pages, f"no page in docs/ shows {path.name} verbatim"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_example_runs(
    path: Path,
    es_node: NodeInfo,
    odm_client: AsyncElasticsearch,
    index_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ODM_INDEX_PREFIX", index_prefix)
    monkeypatch.setenv("ODM_ES_URL", es_node.url)
    module = load(path)
    missing = [m for m in getattr(module, "REQUIRES_MODULES", []) if m not in es_node.modules]
    if missing:
        pytest.skip(f"the test node lacks the Elasticsearch module(s) {', '.join(missing)}")
    await module.main()


def test_readme_shows_its_fastapi_example_verbatim() -> None:
    """The README's FastAPI example is docs/examples/readme_fastapi.py, which the wheel test runs too."""
    source = (DOCS / "examples" / "readme_fastapi.py").read_text().strip()
    assert source in (DOCS.parent / "README.md").read_text()
