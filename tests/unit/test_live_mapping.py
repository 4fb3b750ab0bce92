"""AsyncMapping without a server: built from models, compared with a live mapping."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel

from odm import AsyncMapping, InvalidIndexNameError, Keyword, MappingDiff
from tests.models.blog import Post


class Address(BaseModel):
    city: Annotated[str, Keyword()]
    zip: str


def test_from_document_is_the_mapping_init_sends_and_a_copy() -> None:
    mapping = AsyncMapping.from_document(Post)
    assert mapping.to_dict() == Post.mapping_dict()
    mapping.field("extra", "keyword")
    assert "extra" not in Post.mapping_dict()["properties"]


def test_from_document_maps_a_plain_model_too() -> None:
    assert AsyncMapping.from_document(Address).to_dict() == {
        "properties": {"city": {"type": "keyword"}, "zip": {"type": "text"}}
    }


def test_diff_against_a_live_body_or_mapping() -> None:
    live_body = {"properties": {"city": {"type": "text"}}}
    live = AsyncMapping()
    live._update_from_dict(live_body)
    for other in (live_body, live):
        diff = AsyncMapping.from_document(Address).diff(other)
        assert isinstance(diff, MappingDiff)
        assert diff.added == ["zip"]
        assert diff.conflicts == ["city: the index has text, the model wants keyword"]


async def test_an_invalid_index_is_refused_before_any_request() -> None:
    with pytest.raises(InvalidIndexNameError):
        await AsyncMapping.from_es("posts?")
    with pytest.raises(InvalidIndexNameError):
        await AsyncMapping.from_document(Post).save("posts-*")
