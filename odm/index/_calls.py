"""The requests about one index, each sent under the index's retry policy: ``IndexCalls``.

``AsyncIndex`` (in ``odm.index``) is a definition (name, settings, mapping, documents) that
can save itself; this base class owns what it sends about an existing index: create and
delete (with what a lost answer means for each), the reads, ``refresh``/``put_mapping``/...,
the alias calls with their names checked, and ``update_aliases``. It lives apart because it
needs nothing of the mapping or the templates, which ``AsyncIndex`` is built from: the
definition's knot stays in ``odm.index``, the requests below it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from elastic_transport import ObjectApiResponse
from elasticsearch import AsyncElasticsearch, BadRequestError, NotFoundError
from elasticsearch.dsl import AsyncIndex as DslAsyncIndex

from .._core.mapping_diff import Defaults
from .._core.names import check_alias_name, check_index_name, check_index_pattern, check_write_index
from .._core.retry import Attempts, RetryPolicy
from .._sending import send, send_not_idempotent, send_write
from ..connections import UsingType, get_client
from ..errors import AliasNotFoundError, NoIndexError, OutcomeUnknownError

__all__ = ["IndexCalls", "send_delete"]

R = TypeVar("R")


class IndexCalls(DslAsyncIndex):
    """What ``AsyncIndex`` sends about its index, re-sent under ``retry()``'s policy (else the connection's).

    Every name that goes into a request path is checked first.
    """

    _retry: RetryPolicy | None  # set by AsyncIndex.__init__ and retry()
    _allow_dot_prefix: bool

    def _get_connection(self, using: UsingType | None = None) -> AsyncElasticsearch:
        if self._name is None:
            raise NoIndexError("You cannot perform API calls on the default index.")
        check_index_name(self._name)
        return get_client(using or self._using)

    connection = property(_get_connection)

    async def _send(self, using: UsingType | None, request: Callable[[AsyncElasticsearch], Awaitable[R]]) -> R:
        """One request about this index, under its policy, with the client's own retries off."""
        return await send(self._get_connection(using), request, self._retry)

    async def create(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Create the index with its settings, mapping and aliases (a data stream: the data stream).

        Re-sent under the policy. A create whose answer was lost and whose re-send meets
        ``resource_already_exists`` may have met its own first attempt: that is
        :class:`OutcomeUnknownError`, never a claim that someone else created it.

        Raises:
            InvalidIndexNameError: a name that starts with ``.`` without ``allow_dot_prefix``.
            elasticsearch.BadRequestError: ``resource_already_exists_exception`` on a first
                attempt: the index existed.
            OutcomeUnknownError: the re-send after a lost answer was refused.
        """
        check_write_index(self._name, self._allow_dot_prefix)
        client = self._get_connection(using)
        if self._data_stream:
            return await send_write(
                client, lambda quiet: quiet.indices.create_data_stream(name=self._name, **kwargs), self._retry,
                self._name, None, operation="creation",
            )
        body = self.to_dict()
        return await send_write(
            client, lambda quiet: quiet.indices.create(index=self._name, body=body, **kwargs), self._retry,
            self._name, None, operation="creation",
        )

    async def _create_or_find(self, client: AsyncElasticsearch, body: Mapping[str, Any] | None = None) -> bool:
        """Create the index with ``body`` (``None``: the data stream); ``False`` when it exists
        (before the first attempt, or maybe made by it: either way what exists is then brought up to date)."""
        try:
            if body is None:
                await self.create(using=client)
            else:
                await send_write(
                    client, lambda quiet: quiet.indices.create(index=self._name, **body), self._retry, self._name, None,
                    operation="creation",
                )
        except BadRequestError as error:  # a first attempt: someone else created it
            if error.error != "resource_already_exists_exception":
                raise
            return False
        except OutcomeUnknownError as error:  # a re-send met it: maybe its own first attempt
            if not (isinstance(error.met, BadRequestError) and error.met.error == "resource_already_exists_exception"):
                raise
            return False
        return True

    async def delete(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Delete the index (a data stream: the data stream and its backing indices).

        Sent as ``DELETE /{index}``, so the cluster's own guards apply (with
        ``action.destructive_requires_name``, the default, a wildcard is refused; the
        ``remove_index`` action of ``_aliases`` would delete every match). aiohttp's own
        re-send is off on odm's clients (``odm._sending``), so odm alone re-sends it, under
        the policy. A delete whose answer was lost and whose re-send finds no index (404) has
        deleted it, absent either way: the 404 answer is returned, not raised
        (``response.meta.status == 404``).

        Raises:
            elasticsearch.NotFoundError: no such index, on a first attempt.
        """
        client = self._get_connection(using)
        if self._data_stream:
            request: Callable[[AsyncElasticsearch], Awaitable[ObjectApiResponse[Any]]] = (
                lambda quiet: quiet.indices.delete_data_stream(name=self._name, **kwargs)
            )
        else:
            request = lambda quiet: quiet.indices.delete(index=self._name, **kwargs)  # noqa: E731
        return await send_delete(client, request, self._retry)

    async def exists(self, using: UsingType | None = None, **kwargs: Any) -> bool:
        """Whether the index (or an alias of this name) exists; a read, re-sent under the policy."""
        return bool(await self._send(using, lambda quiet: quiet.indices.exists(index=self._name, **kwargs)))

    async def refresh(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Refresh the index (re-sent under the policy: a second refresh changes nothing)."""
        return await self._send(using, lambda quiet: quiet.indices.refresh(index=self._name, **kwargs))

    async def flush(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Flush the index (re-sent under the policy)."""
        return await self._send(using, lambda quiet: quiet.indices.flush(index=self._name, **kwargs))

    async def get(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """The index's settings, mappings and aliases (a read, re-sent under the policy)."""
        return await self._send(using, lambda quiet: quiet.indices.get(index=self._name, **kwargs))

    async def get_mapping(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """The index's mapping (a read, re-sent under the policy)."""
        return await self._send(using, lambda quiet: quiet.indices.get_mapping(index=self._name, **kwargs))

    async def get_field_mapping(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """The mapping of the fields ``fields=`` (a read, re-sent under the policy)."""
        return await self._send(using, lambda quiet: quiet.indices.get_field_mapping(index=self._name, **kwargs))

    async def get_settings(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """The index's settings (a read, re-sent under the policy)."""
        return await self._send(using, lambda quiet: quiet.indices.get_settings(index=self._name, **kwargs))

    async def put_mapping(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Add fields to the live mapping; re-sent under the policy (the same mapping twice is once)."""
        return await self._send(using, lambda quiet: quiet.indices.put_mapping(index=self._name, **kwargs))

    async def put_settings(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Change dynamic settings; re-sent under the policy (the same values twice are once)."""
        return await self._send(using, lambda quiet: quiet.indices.put_settings(index=self._name, **kwargs))

    async def open(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Open the (closed) index; re-sent under the policy (opening an open index changes nothing)."""
        return await self._send(using, lambda quiet: quiet.indices.open(index=self._name, **kwargs))

    async def close(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Close the index; re-sent under the policy (closing a closed index changes nothing)."""
        return await self._send(using, lambda quiet: quiet.indices.close(index=self._name, **kwargs))

    async def is_closed(self, using: UsingType | None = None) -> bool:
        """Whether the index (or an index behind the alias) is closed."""
        state = await self._send(using, lambda quiet: quiet.cluster.state(index=self._name, metric="metadata"))
        return any(index["state"] == "close" for index in state["metadata"]["indices"].values())

    # -- alias and target names go into the request path, so they are checked too --

    async def put_alias(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Add the alias ``name=`` to this index (``filter=``, ``is_write_index=``, ... as the client takes them);
        re-sent under the policy (adding the same alias twice is once)."""
        _check_argument(kwargs, "name", check_alias_name)
        return await self._send(using, lambda quiet: quiet.indices.put_alias(index=self._name, **kwargs))

    async def exists_alias(self, using: UsingType | None = None, **kwargs: Any) -> bool:
        """Whether the alias (or any of the aliases) ``name=`` points to this index (a read, re-sent under the policy)."""
        _check_argument(kwargs, "name", check_index_pattern)
        return bool(await self._send(using, lambda quiet: quiet.indices.exists_alias(index=self._name, **kwargs)))

    async def get_alias(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """The aliases of this index, or those matching ``name=`` (a read, re-sent under the policy).

        Raises:
            AliasNotFoundError: none matches ``name=``.
        """
        _check_argument(kwargs, "name", check_index_pattern)
        try:
            return await self._send(using, lambda quiet: quiet.indices.get_alias(index=self._name, **kwargs))
        except NotFoundError as error:
            raise AliasNotFoundError(self._name, str(kwargs.get("name")), error.meta, error.body) from error

    async def delete_alias(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Remove the alias (or aliases, patterns allowed) ``name=`` from this index, re-sent under the
        policy; a re-send after a lost answer that finds no alias (404) has removed it (its answer returned).

        Raises:
            AliasNotFoundError: no such alias, on a first attempt (the client's own error, for several
                names, cannot even be printed: its body has a list where it expects a string).
        """
        _check_argument(kwargs, "name", check_index_pattern)
        request = lambda quiet: quiet.indices.delete_alias(index=self._name, **kwargs)  # noqa: E731
        try:
            return await send_delete(self._get_connection(using), request, self._retry)
        except NotFoundError as error:
            raise AliasNotFoundError(self._name, str(kwargs.get("name")), error.meta, error.body) from error

    async def shrink(self, using: UsingType | None = None, **kwargs: Any) -> ObjectApiResponse[Any]:
        """Shrink this (write-blocked) index into the new index ``target=`` with fewer shards."""
        _check_argument(kwargs, "target", check_index_name)
        return await super().shrink(using, **kwargs)

    async def update_aliases(
        self, actions: Sequence[Mapping[str, Mapping[str, Any]]], using: UsingType | None = None
    ) -> ObjectApiResponse[Any]:
        """Apply alias actions atomically; an action without ``index`` is about this index.

        Example: move ``posts-read`` here from ``posts-v1`` in one step::

            await posts_v2.update_aliases([
                {"remove": {"index": "posts-v1", "alias": "posts-read"}},
                {"add": {"alias": "posts-read"}},
            ])
        """
        body = _alias_actions(self._name, actions)
        return await send_not_idempotent(
            self._get_connection(using), lambda quiet: quiet.indices.update_aliases(actions=body), self._retry,
            self._name, "update of aliases",
        )

    async def _field_defaults(self, client: AsyncElasticsearch, unchecked: list[str]) -> Defaults:
        """Every parameter, defaults included, of the live fields named in ``path.param`` entries."""
        paths = sorted({entry.rpartition(".")[0] for entry in unchecked})
        raw = await self.get_field_mapping(using=client, fields=paths, include_defaults=True)
        fields = next(iter(raw.body.values()))["mappings"]
        return {path: next(iter(entry["mapping"].values())) for path, entry in fields.items() if entry["mapping"]}


def _check_argument(kwargs: Mapping[str, Any], key: str, check: Callable[[str], object]) -> None:
    if key in kwargs and kwargs[key] is not None:
        check(kwargs[key])


def _alias_actions(index: str, actions: Sequence[Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """The ``actions`` body: ``index`` filled in where an action names neither ``index`` nor ``indices``."""
    return [
        {verb: dict(spec) if "index" in spec or "indices" in spec else {"index": index, **spec}}
        for action in actions
        for verb, spec in action.items()
    ]


async def send_delete(
    client: AsyncElasticsearch,
    request: Callable[[AsyncElasticsearch], Awaitable[ObjectApiResponse[Any]]],
    policy: RetryPolicy | None,
) -> ObjectApiResponse[Any]:
    """Send a delete (of an index, a data stream or a template) under ``policy``.

    A re-send after a lost answer that finds nothing (404) has deleted it, absent either
    way: the 404 answer is returned, not raised. A first attempt's 404 is raised.
    """
    tally = Attempts()
    try:
        return await send(client, request, policy, tally)
    except NotFoundError as error:
        if not tally.resent_after_lost_answer:
            raise
        return ObjectApiResponse(body=error.body, meta=error.meta)
