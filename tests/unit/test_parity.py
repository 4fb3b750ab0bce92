"""Issue 20's request bodies the test node cannot run (painless), and mappings of optional extras."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import pytest
from pydantic import EmailStr, NameEmail

from odm import ArgumentError, AsyncDocument, Keyword
from odm.mapping import field_for
from tests.unit.fake_node import Request, fake_client


@pytest.mark.parametrize("annotation", [EmailStr, NameEmail, EmailStr | None])
def test_email_types_map_to_keyword_without_email_validator(annotation: Any) -> None:
    # Validating them needs the email-validator package; mapping them does not.
    assert field_for(annotation).to_dict() == {"type": "keyword"}


# -- 7. update(script=..., **params), as elasticsearch-dsl takes it -------------------------


class Counter(AsyncDocument):
    name: Annotated[str, Keyword()]
    views: int = 0

    class Index:
        name = "counters"
        keep_unknown_fields = False  # the requests then carry no vector parameters


async def _answer(request: Request) -> tuple[int, Any]:
    return 200, {"_index": "counters", "_id": "c", "_version": 2, "result": "updated", "_seq_no": 7, "_primary_term": 1,
                 "get": {"found": True, "_source": {"name": "c", "views": 6}}}


async def test_keyword_arguments_of_a_scripted_update_are_its_params_merged_with_params() -> None:
    client, requests = fake_client(_answer)
    counter = Counter(name="c", meta={"id": "c"})
    assert await counter.update(script="ctx._source.views += params.inc", inc=5, params={"by": "me"}, using=client) == "updated"
    await Counter.update_by_id("c", script={"source": "s", "params": {"a": 1}}, b=2, using=client)
    first, second = (orjson.loads(request.body or b"") for request in requests)
    assert first["script"] == {"source": "ctx._source.views += params.inc", "params": {"by": "me", "inc": 5}}
    assert second["script"] == {"source": "s", "params": {"a": 1, "b": 2}}
    assert counter.views == 6
    await client.close()


async def test_a_param_given_twice_is_refused_before_any_request() -> None:
    client, requests = fake_client(_answer)
    with pytest.raises(ArgumentError, match=r"params \['inc'\] given twice"):
        await Counter(name="c", meta={"id": "c"}).update(script="s", params={"inc": 1}, inc=2, using=client)
    assert requests == []
    await client.close()
