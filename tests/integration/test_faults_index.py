"""Index management through the fault proxy: ``init()`` and ``AsyncIndex`` under odm's retry policy.

Reads are re-sent; a create that meets an existing index after a lost answer takes
``init()``'s update path (what exists is brought up to date, which is idempotent); a
delete whose re-send finds nothing has deleted. Every check of the node reads it
directly (``odm_client``), never through the proxy. docs/reliability.md, "Index management".
"""

from __future__ import annotations

from typing import Any

import elasticsearch
import pytest
from elasticsearch import AsyncElasticsearch

from odm import NO_RETRIES, AliasNotFoundError, AsyncIndex, OutcomeUnknownError
from odm.schema import definition_hash
from odm.testing import FaultProxy
from odm.testing.faults import Fault, ResetAfterForwarding, Stall, Unavailable503
from odm.testing.isolation import isolated
from tests.integration.test_faults import Sends, proxy, through  # noqa: F401  (proxy: a fixture)
from tests.integration.test_schema import Article
from tests.models.blog import Post


class Rated(Post):
    """Post with one more field: init() of it adds the field to the live index (the update path)."""

    rating: int = 0


async def live(client: AsyncElasticsearch, index: str) -> dict[str, Any]:
    """The mappings of every index starting with ``index``, read from the node."""
    return {name: body["mappings"] for name, body in (await client.indices.get(index=index + "*")).body.items()}


def create_fault(kind: str, index: str) -> Fault:
    """One fault on the create-index request (``PUT /{index}``) only."""
    where: dict[str, Any] = {"count": 1, "method": "PUT", "path": rf"^/{index}$"}
    if kind == "unavailable_503":
        return Unavailable503(**where)
    if kind == "reset_after":
        return ResetAfterForwarding(**where)
    return Stall(seconds=1.5, **where)


@pytest.mark.parametrize("versioned", [False, True], ids=["concrete", "versioned"])
@pytest.mark.parametrize("kind", ["unavailable_503", "reset_after", "stall"])
async def test_init_creates_the_index_once_through_a_fault_on_its_create(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str, kind: str, versioned: bool
) -> None:
    """A 503 is re-sent by odm (the node got one create); a create applied whose answer was lost
    meets ``resource_already_exists`` when sent again, and init() goes on to its update path, which
    finds nothing to change: one index, with the class's mapping and hash, and no error."""
    document: Any = isolated(Article if versioned else Post, index_prefix)
    name = document.index_name()
    target = f"{name}-v1" if versioned else name
    sends = Sends()
    proxy.faults = [create_fault(kind, target)]
    async with through(proxy, max_retries=3, retry_on_timeout=True, request_timeout=1) as client:
        await document.init(using=client, retry=sends.policy)
    mappings = await live(odm_client, name)
    assert list(mappings) == [target]  # one index
    assert mappings[target]["_meta"]["odm"]["definition_hash"] == definition_hash(document)
    assert set(mappings[target]["properties"]) == set(document._index.to_dict()["mappings"]["properties"])
    if versioned:
        assert list((await odm_client.indices.get_alias(name=name)).body) == [target]
    create = ("PUT", f"/{target}")
    assert proxy.stats.injected[kind] == 1
    if kind == "unavailable_503":  # refused, not forwarded; odm's re-send created it
        assert [r.may_have_been_applied for r in sends.retries] == [False] and proxy.stats.reached[create] == 1
    else:  # forwarded and applied, its answer lost (a timeout, a reset): odm re-sent it (aiohttp's own
        # re-send of a PUT is off) and met the index its first attempt made: init took its update path
        assert [r.may_have_been_applied for r in sends.retries] == [True] and proxy.stats.reached[create] == 2
    assert not any(method == "PUT" and "_mapping" in path for method, path in proxy.stats.reached)  # nothing to change


async def test_init_brings_the_index_up_to_date_through_503s_and_a_reset_on_its_mapping_update(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """The update path: the reads and put_mapping are re-sent under the policy; a put_mapping
    applied twice is applied once."""
    await isolated(Post, index_prefix).init(using=odm_client)
    grown = isolated(Rated, index_prefix)
    index = grown.index_name()
    sends = Sends()
    mapping_path = rf"^/{index}/_mapping$"
    proxy.faults = [
        Unavailable503(count=1, method="HEAD"),
        Unavailable503(count=1, method="GET", path=rf"^/{index}$"),
        Unavailable503(count=1, method="PUT", path=mapping_path),
        ResetAfterForwarding(count=1, method="PUT", path=mapping_path),
    ]
    async with through(proxy, max_retries=3) as client:
        await grown.init(using=client, retry=sends.policy)
    mappings = await live(odm_client, index)
    assert list(mappings) == [index] and mappings[index]["properties"]["rating"] == {"type": "long"}
    assert mappings[index]["_meta"]["odm"]["definition_hash"] == definition_hash(grown)
    assert proxy.stats.injected == {"unavailable_503": 3, "reset_after": 1}
    assert len(sends.retries) == 4  # each 503 and the reset re-sent by odm (aiohttp's own re-send is off)
    assert proxy.stats.reached[("PUT", f"/{index}/_mapping")] == 2


async def test_init_with_no_retries_fails_cleanly_at_the_first_503(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """``retry=NO_RETRIES``: the 503 is raised, through a client whose own retries would have
    hidden it; on the create path no index exists, on the update path the mapping is unchanged."""
    posts = isolated(Post, index_prefix)
    index = posts.index_name()
    async with through(proxy, max_retries=3) as client:
        proxy.faults = [Unavailable503(count=1, method="PUT", path=rf"^/{index}$")]
        with pytest.raises(elasticsearch.ApiError) as refused:
            await posts.init(using=client, retry=NO_RETRIES)
        assert refused.value.status_code == 503
        assert not await odm_client.indices.exists(index=index)
        await posts.init(using=client)
        proxy.faults = [Unavailable503(count=1, method="PUT", path=rf"^/{index}/_mapping$")]
        with pytest.raises(elasticsearch.ApiError) as refused:
            await isolated(Rated, index_prefix).init(using=client, retry=NO_RETRIES)
        assert refused.value.status_code == 503
    assert "rating" not in (await live(odm_client, index))[index]["properties"]
    assert proxy.stats.injected["unavailable_503"] == 2 and proxy.stats.reached[("PUT", f"/{index}/_mapping")] == 0


async def test_an_index_create_or_delete_whose_answer_was_lost_reports_what_odm_can_know(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """``AsyncIndex.create()`` re-sent after a lost answer that meets ``resource_already_exists``
    may have met its own first attempt: OutcomeUnknownError, not "someone else created it".
    ``delete()`` is a DELETE (aiohttp's own re-send is off: only odm re-sends it); re-sent after a
    lost answer, a 404 means deleted: the 404 answer is returned. On a first attempt each is the
    client's error."""
    name = index_prefix + "managed"
    sends = Sends()
    async with through(proxy, max_retries=3, retry_on_timeout=True, request_timeout=1) as client:
        managed = AsyncIndex[Any](name, using=client).settings(number_of_shards=1, number_of_replicas=0).retry(sends.policy)
        proxy.faults = [Stall(count=1, seconds=1.5, method="PUT", path=rf"^/{name}$")]
        with pytest.raises(OutcomeUnknownError, match="outcome of the creation of .* is unknown") as raised:
            await managed.create()
        error = raised.value
        assert (error.index, error.id, error.attempts, error.operation) == (name, None, 2, "creation")
        assert isinstance(error.met, elasticsearch.BadRequestError) and isinstance(error.lost, elasticsearch.ConnectionTimeout)
        assert await managed.exists()
        with pytest.raises(elasticsearch.BadRequestError, match="resource_already_exists"):
            await managed.create()  # a first attempt: it existed
        sends.take()
        proxy.faults = [ResetAfterForwarding(count=1, method="DELETE", path=rf"^/{name}$")]
        deleted = await managed.delete()
        assert deleted.meta.status == 404 and sends.take() == 2  # absent either way
        assert proxy.stats.reached[("DELETE", f"/{name}")] == 2
        assert not await odm_client.indices.exists(index=name)
        with pytest.raises(elasticsearch.NotFoundError):
            await managed.delete()  # a first attempt: there was none


async def test_aiohttp_re_sends_no_put_so_odm_counts_every_request_that_reached_the_node(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """A create or ``put_settings`` (PUTs: no POST form) whose connection is reset after it was
    forwarded is not sent again by aiohttp below odm: odm re-sends it, counted, so its count is the
    node's, and a create that meets its own first attempt is OutcomeUnknownError, never the
    ``resource_already_exists`` that says someone else made the index."""
    name = index_prefix + "counted"
    sends = Sends()
    async with through(proxy, max_retries=3) as client:
        managed = AsyncIndex[Any](name, using=client).settings(number_of_shards=1, number_of_replicas=0).retry(sends.policy)
        await managed.exists()  # a kept-alive connection to break
        sends.take()
        proxy.faults = [ResetAfterForwarding(count=1, method="PUT", path=rf"^/{name}$")]
        with pytest.raises(OutcomeUnknownError, match="outcome of the creation of .* is unknown"):
            await managed.create()
        assert sends.take() == 2 and proxy.stats.reached[("PUT", f"/{name}")] == 2
        proxy.faults = [ResetAfterForwarding(count=1, method="PUT", path=rf"^/{name}/_settings$")]
        await managed.put_settings(settings={"index": {"refresh_interval": "7s"}})
        assert sends.take() == 2 and proxy.stats.reached[("PUT", f"/{name}/_settings")] == 2
    assert proxy.stats.injected["reset_after"] == 2
    settings = (await odm_client.indices.get_settings(index=name)).body[name]["settings"]["index"]
    assert settings["refresh_interval"] == "7s"



async def test_alias_calls_are_re_sent_by_odm_and_a_lost_alias_delete_is_a_delete(
    proxy: FaultProxy, odm_client: AsyncElasticsearch, index_prefix: str
) -> None:
    """``put_alias`` and ``delete_alias`` whose answers were lost are re-sent by odm, counted. A
    re-sent delete that finds no alias (404) met its own first attempt: the alias is gone either way,
    its answer is returned; on a first attempt a missing alias is AliasNotFoundError."""
    name, alias = index_prefix + "aliased", index_prefix + "aliased-read"
    await odm_client.indices.create(index=name)
    sends = Sends()
    async with through(proxy, max_retries=3) as client:
        managed = AsyncIndex[Any](name, using=client).retry(sends.policy)
        await managed.exists()  # a kept-alive connection to break
        sends.take()
        proxy.faults = [ResetAfterForwarding(count=1, method="PUT", path=rf"^/{name}/_alias(es)?/{alias}$")]
        await managed.put_alias(name=alias)
        assert sends.take() == 2 and await managed.exists_alias(name=alias)
        sends.take()
        proxy.faults = [ResetAfterForwarding(count=1, method="DELETE", path=rf"^/{name}/_alias(es)?/{alias}$")]
        removed = await managed.delete_alias(name=alias)
        assert removed.meta.status == 404 and sends.take() == 2  # absent either way
        assert proxy.stats.injected["reset_after"] == 2
        with pytest.raises(AliasNotFoundError):
            await managed.delete_alias(name=alias)  # a first attempt: there was none
    assert not await odm_client.indices.exists_alias(name=alias)
