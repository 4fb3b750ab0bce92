"""The odm demo: index the metadata of every installed Python distribution, then search it.

Run with ``scripts/demo``: it uses $ODM_ES_URL, or starts a throwaway local
Elasticsearch node and stops it at the end. Nothing is fetched from the network
but that node (once, into a cache).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import re
from collections.abc import Iterator
from email.utils import parseaddr
from typing import Annotated

from pydantic import BaseModel
from tqdm import tqdm

from odm import AsyncDocument, AsyncIndex, Keyword, Q, Text
from odm.testing import ensure_node, run_example

INDEX = os.environ.get("ODM_INDEX_PREFIX", "") + "demo-packages"


class Person(BaseModel):
    name: Annotated[str, Text(fields={"raw": Keyword()})] = ""
    email: Annotated[str, Keyword()] = ""


class Package(AsyncDocument):
    """One installed distribution, as its METADATA file describes it."""

    name: Annotated[str, Text(fields={"raw": Keyword()})]
    version: Annotated[str, Keyword()]
    summary: str = ""
    description: str = ""
    license: Annotated[str | None, Keyword()] = None
    requires_python: Annotated[str | None, Keyword()] = None
    classifiers: list[Annotated[str, Keyword()]] = []
    topics: list[Annotated[str, Keyword()]] = []
    requires: list[Annotated[str, Keyword()]] = []
    author: Person | None = None
    file_count: int = 0

    class Index:
        name = INDEX
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def installed_packages() -> Iterator[Package]:
    """Read every distribution installed next to this interpreter into a Package."""
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        meta = dist.metadata
        name = meta["Name"]
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        classifiers = meta.get_all("Classifier") or []
        requires = [m.group(1).lower() for r in dist.requires or [] if (m := _REQUIREMENT_NAME.match(r))]
        author_name, author_email = parseaddr(meta.get("Author-email") or "")
        yield Package(
            name=name,
            version=meta["Version"] or "",
            summary=meta.get("Summary") or "",
            description=(meta.get_payload() or meta.get("Description") or "")[:20_000],  # type: ignore[union-attr]
            license=(meta.get("License-Expression") or meta.get("License") or "")[:200] or None,
            requires_python=meta.get("Requires-Python"),
            classifiers=classifiers,
            topics=sorted({c.split(" :: ")[1] for c in classifiers if c.startswith("Topic :: ")}),
            requires=sorted(set(requires)),
            author=Person(name=meta.get("Author") or author_name, email=author_email),
            file_count=len(dist.files or []),
            meta={"id": name.lower()},
        )


async def main() -> None:
    """Create the index, load the packages, and show a few typed searches."""
    node = ensure_node()  # the node run_example connected to
    print(f"Elasticsearch {node.version} at {node.url}\n")
    await AsyncIndex(INDEX).delete(ignore_unavailable=True)
    await Package.init()
    packages = list(installed_packages())
    with tqdm(total=len(packages), desc="bulk-indexing", unit="doc") as bar:
        result = await Package.bulk(
            packages, chunk_size=10, refresh=True, progress=lambda r: bar.update(r.total - bar.n)
        )
    print(f"{result}: {len(packages)} installed distributions into {INDEX!r}.\n")

    print("Full text: 'http client' in summaries and descriptions")
    s = (
        Package.search()
        .query(Q("multi_match", query="http client", fields=["summary^3", "description"]))
        .source(excludes=["description"])[:5]
    )
    async for package in s:  # package: Package
        print(f"  {package.meta.score:6.2f}  {package.name:<22} {package.summary[:60]}")

    print("\nWho depends on pydantic-core?")
    async for package in Package.search().filter("term", requires="pydantic-core").sort("name.raw"):
        print(f"  {package.name} {package.version}")

    print("\nThe most common topics (a terms aggregation)")
    topics = Package.search().extra(size=0)
    topics.aggs.bucket("topics", "terms", field="topics", size=5)
    response = await topics.execute()
    for bucket in response.aggregations.topics.buckets:
        print(f"  {bucket.doc_count:3}  {bucket.key}")

    print("\nThe largest distributions by file count")
    async for package in Package.search().sort("-file_count")[:3]:
        print(f"  {package.file_count:6} files  {package.name}")

    typed = await Package.search().filter("exists", field="requires_python").count()
    print(f"\n{typed} of {len(packages)} declare Requires-Python.")
    pydantic = await Package.get("pydantic")
    print(f"get('pydantic') -> {type(pydantic).__name__} {pydantic.version}: {pydantic.summary}")


if __name__ == "__main__":
    asyncio.run(run_example(main))  # $ODM_ES_URL, or a local node started and stopped here
