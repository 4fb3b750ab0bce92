"""Index templates without a server: the bodies sent, the default pattern, name checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from elasticsearch.dsl import AsyncComposableIndexTemplate as DslAsyncComposableIndexTemplate

from odm import AsyncComposableIndexTemplate, AsyncDocument, AsyncIndex, AsyncIndexTemplate, InvalidIndexNameError


class Log(AsyncDocument):
    message: str
    at: datetime

    class Index:
        name = "logs"
        settings = {"number_of_shards": 1}
        aliases: dict[str, Any] = {"logs-all": {}}


LOG_MAPPING = {"properties": {"message": {"type": "text"}, "at": {"type": "date"}}}
LOG_TEMPLATE = {"settings": {"number_of_shards": 1}, "aliases": {"logs-all": {}}, "mappings": LOG_MAPPING}


def test_a_document_template_covers_its_date_based_indices() -> None:
    template = Log.as_template("logs", priority=50)
    assert isinstance(template, AsyncComposableIndexTemplate)
    assert isinstance(template, DslAsyncComposableIndexTemplate)
    assert template.to_dict() == {"index_patterns": ["logs-*"], "template": LOG_TEMPLATE, "priority": 50}


def test_an_index_name_that_is_a_pattern_is_the_templates_pattern() -> None:
    class Event(Log):
        class Index:
            name = "events-*"

    assert Event.as_template("events").to_dict()["index_patterns"] == ["events-*"]
    assert Log.as_template("logs", pattern="logs-2026-*").to_dict()["index_patterns"] == ["logs-2026-*"]


def test_a_document_without_an_index_name_needs_a_pattern() -> None:
    class Loose(AsyncDocument):
        text: str

    with pytest.raises(LookupError, match="Loose has no Index.name"):
        Loose.as_template("loose")
    assert Loose.as_template("loose", pattern="loose-*").to_dict()["index_patterns"] == ["loose-*"]


def test_index_definitions_give_legacy_and_composable_templates() -> None:
    index: AsyncIndex[Log] = AsyncIndex("logs")
    index.document(Log)
    legacy = index.as_template("logs-legacy", "logs-*", order=3)
    assert isinstance(legacy, AsyncIndexTemplate)
    assert legacy.to_dict() == {**LOG_TEMPLATE, "index_patterns": ["logs-*"], "order": 3}
    composable = index.as_composable_template("logs")
    assert composable.to_dict() == {"index_patterns": ["logs"], "template": LOG_TEMPLATE}


def test_the_template_copies_the_index_and_passes_attributes_on() -> None:
    index = AsyncIndex("logs").settings(number_of_shards=1)
    template = index.as_composable_template("logs", "logs-*")
    template.settings(number_of_replicas=0)
    assert template.to_dict()["template"]["settings"] == {"number_of_shards": 1, "number_of_replicas": 0}
    assert index._settings == {"number_of_shards": 1}


def test_a_template_built_from_nothing_is_filled_through_attributes() -> None:
    template = AsyncComposableIndexTemplate("logs", "logs-*", priority=1)
    template.document(Log)
    assert template.to_dict() == {"index_patterns": ["logs-*"], "template": LOG_TEMPLATE, "priority": 1}


def test_a_data_stream_template_says_so() -> None:
    index = AsyncIndex("metrics")
    index.data_stream(True)
    assert index.as_composable_template("metrics").to_dict() == {
        "index_patterns": ["metrics"],
        "template": {},
        "data_stream": {},
    }


@pytest.mark.parametrize("name", ["Logs", "logs/..", "..", "logs*", "a,b"])
def test_an_invalid_template_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidIndexNameError, match="template name"):
        AsyncComposableIndexTemplate(name, "logs-*")
    with pytest.raises(InvalidIndexNameError, match="template name"):
        AsyncIndexTemplate(name, "logs-*")


@pytest.mark.parametrize("pattern", ["Logs-*", "logs/*", "logs #"])
def test_an_invalid_pattern_is_refused(pattern: str) -> None:
    with pytest.raises(InvalidIndexNameError):
        Log.as_template("logs", pattern=pattern)
