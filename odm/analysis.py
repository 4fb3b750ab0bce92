"""Analyzers that run the Analyze API through ``odm.async_connections``.

elasticsearch.dsl's ``analyzer(...)`` objects define analysis for mappings and
index settings; its ``async_simulate()`` looks the client up in elasticsearch.dsl's
own registry. ``odm.analyzer(...)`` builds the same objects, whose
``async_simulate()`` uses odm's registry (or a client passed as ``using``) and
returns a typed :class:`AnalyzeResult`. :func:`simulate` does the same for any
elasticsearch.dsl analyzer or normalizer, inline or as defined in an index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from elasticsearch.dsl import analysis as dsl_analysis
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._core.names import check_index_name
from .connections import UsingType, get_client
from .errors import ArgumentError

__all__ = [
    "AnalyzeCharFilterStage",
    "AnalyzeDetail",
    "AnalyzeResult",
    "AnalyzeStage",
    "AnalyzeToken",
    "BuiltinAnalyzer",
    "CustomAnalyzer",
    "analyzer",
    "normalizer",
    "simulate",
]


class AnalyzeToken(BaseModel):
    """One token the Analyze API produced; with ``explain`` it carries more attributes (extra keys)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    token: str
    start_offset: int
    end_offset: int
    type: str
    position: int
    position_length: int = Field(1, alias="positionLength")


class AnalyzeStage(BaseModel):
    """The tokens after one stage (the analyzer, the tokenizer or a token filter) with ``explain``."""

    name: str
    tokens: list[AnalyzeToken]


class AnalyzeCharFilterStage(BaseModel):
    """The text after one char filter, with ``explain``."""

    name: str
    filtered_text: list[str]


class AnalyzeDetail(BaseModel):
    """The stage-by-stage output of ``explain=True``."""

    custom_analyzer: bool
    analyzer: AnalyzeStage | None = None
    charfilters: list[AnalyzeCharFilterStage] = []
    tokenizer: AnalyzeStage | None = None
    tokenfilters: list[AnalyzeStage] = []

    def final_tokens(self) -> list[AnalyzeToken]:
        """The tokens of the last stage: what would be indexed."""
        last = self.tokenfilters[-1] if self.tokenfilters else self.tokenizer or self.analyzer
        return last.tokens if last is not None else []


class AnalyzeResult(BaseModel):
    """The Analyze API's answer: ``tokens``, and ``detail`` when ``explain`` was asked for.

    With ``explain`` Elasticsearch sends only ``detail``; ``tokens`` is then filled
    from its last stage, so ``tokens`` always holds what would be indexed.
    """

    tokens: list[AnalyzeToken] = []
    detail: AnalyzeDetail | None = None

    @model_validator(mode="after")
    def _tokens_from_detail(self) -> AnalyzeResult:
        if not self.tokens and self.detail is not None:
            self.tokens = self.detail.final_tokens()
        return self

    @property
    def terms(self) -> list[str]:
        """The token texts, in order: ``["quick", "brown", "fox"]``."""
        return [token.token for token in self.tokens]


async def simulate(
    analysis: dsl_analysis.Analyzer | dsl_analysis.Normalizer,
    text: str | Sequence[str],
    using: UsingType = "default",
    index: str | None = None,
    explain: bool = False,
    attributes: Sequence[str] | None = None,
) -> AnalyzeResult:
    """Run text through an analyzer or normalizer with the Analyze API.

    Without ``index`` a custom analyzer is sent inline (its tokenizer, filters and
    char filters), so it needs no index; with ``index`` the analyzer or normalizer of
    that name, as the index defines it, is used.

    Example: ``(await simulate(analyzer("standard"), "Hello World")).terms == ["hello", "world"]``

    Args:
        analysis: an ``analyzer(...)`` or ``normalizer(...)`` object.
        text: one text, or several analyzed as one field with several values.
        using: connection alias or client.
        index: analyze with the definition stored in this index.
        explain: return every stage's output in ``detail``.
        attributes: with ``explain``, the token attributes to return.

    Raises:
        ArgumentError: ``analysis`` is neither an analyzer nor a normalizer; or, without ``index``, a built-in analyzer type with parameters
            (``analyzer("short", "standard", max_token_length=5)``): the Analyze API
            cannot take it inline, and sending the bare type would ignore the parameters.
        elasticsearch.BadRequestError: Elasticsearch refused the analysis (e.g. an unknown filter).
    """
    if not isinstance(analysis, (dsl_analysis.Analyzer, dsl_analysis.Normalizer)):
        raise ArgumentError(f"simulate() takes an analyzer(...) or normalizer(...), not {analysis!r}")
    body: dict[str, Any] = {"text": text if isinstance(text, str) else list(text)}
    if index is not None:
        kind = "normalizer" if isinstance(analysis, dsl_analysis.Normalizer) else "analyzer"
        body[kind] = analysis._name
    else:
        body.update(_inline(analysis))
    if explain:
        body["explain"] = True
    if attributes is not None:
        body["attributes"] = list(attributes)
    target = check_index_name(index) if index is not None else None
    raw = await get_client(using).indices.analyze(index=target, body=body)
    return AnalyzeResult.model_validate(raw.body)


def _inline(analysis: dsl_analysis.Analyzer | dsl_analysis.Normalizer) -> dict[str, Any]:
    """The Analyze API parameters that describe ``analysis`` without an index."""
    kind = "normalizer" if isinstance(analysis, dsl_analysis.Normalizer) else "analyzer"
    if not isinstance(analysis, dsl_analysis.CustomAnalysisDefinition):
        return {kind: analysis._name}
    own = analysis.get_definition()
    if analysis._builtin_type != "custom":
        parameters = {k: v for k, v in own.items() if k != "type"}
        if parameters:
            raise ArgumentError(
                f"{kind} {analysis._name!r} is a {analysis._builtin_type!r} {kind} with parameters "
                f"{parameters}; the Analyze API cannot take it inline: pass index= of an index that defines it"
            )
        return {kind: analysis._builtin_type}
    definitions = analysis.get_analysis_definition()
    body: dict[str, Any] = {}
    for section in ("tokenizer", "char_filter", "filter"):
        if section not in own:
            continue
        known, names = definitions.get(section, {}), own[section]
        body[section] = known.get(names, names) if isinstance(names, str) else [known.get(n, n) for n in names]
    return body


class _AsyncSimulate:
    """``async_simulate()`` through odm's connections, as the elasticsearch-dsl page shows it."""

    async def async_simulate(
        self,
        text: str | Sequence[str],
        using: UsingType = "default",
        explain: bool = False,
        attributes: Sequence[str] | None = None,
        index: str | None = None,
    ) -> AnalyzeResult:
        """Run ``text`` through this analyzer with the Analyze API; see :func:`simulate`.

        Example: ``[t.token for t in (await my_analyzer.async_simulate("Hello World")).tokens]``
        """
        # Only mixed into the analyzer classes below.
        this = cast(dsl_analysis.Analyzer, self)
        return await simulate(this, text, using=using, index=index, explain=explain, attributes=attributes)


class BuiltinAnalyzer(_AsyncSimulate, dsl_analysis.BuiltinAnalyzer):
    """A built-in analyzer referred to by name (``standard``, ``simple``, ``whitespace``, ...)."""


# elasticsearch.dsl's async_simulate returns an AttrDict from its own registry's client;
# this one returns the typed AnalyzeResult (same ``.tokens[i].token`` access) from odm's.
class CustomAnalyzer(_AsyncSimulate, dsl_analysis.CustomAnalyzer):  # type: ignore[misc]
    """An analyzer defined by the application: tokenizer, filters, char filters, or a configured type."""


def analyzer(name: str, type: str | None = None, **kwargs: Any) -> BuiltinAnalyzer | CustomAnalyzer:
    """Define an analyzer, as elasticsearch.dsl's ``analyzer()`` does, with an odm ``async_simulate()``.

    Use it in a field annotation (``Annotated[str, Text(analyzer=my_analyzer)]``) and
    ``init()`` puts its definition into the index settings.

    Example: ``analyzer("folded", tokenizer="standard", filter=["lowercase", "stop"])``

    Args:
        name: the analyzer's name; alone, a built-in analyzer.
        type: a built-in type to configure (``"standard"``, ``"stop"``); ``"custom"`` by default.
        kwargs: the definition: ``tokenizer``, ``filter``, ``char_filter`` or the type's parameters.
    """
    if type is None and not kwargs:
        return BuiltinAnalyzer(name)
    return CustomAnalyzer(name, type or "custom", **kwargs)


def normalizer(
    name: str, type: str | None = None, **kwargs: Any
) -> dsl_analysis.BuiltinNormalizer | dsl_analysis.CustomNormalizer:
    """Define a normalizer for keyword fields: elasticsearch.dsl's ``normalizer()``, typed.

    Example: ``Annotated[str, Keyword(normalizer=normalizer("lower", filter=["lowercase"]))]``;
    run it with :func:`simulate`.

    Args:
        name: the normalizer's name; alone, a built-in normalizer (``"lowercase"``).
        type: ``"custom"`` by default.
        kwargs: the definition: ``filter`` and ``char_filter``.
    """
    made = dsl_analysis.normalizer(name, type, **kwargs)  # typed as DslBase upstream
    return cast("dsl_analysis.BuiltinNormalizer | dsl_analysis.CustomNormalizer", made)
