"""Exceptions raised while providing a throwaway Elasticsearch node."""

from __future__ import annotations

__all__ = ["DistributionError", "JavaNotFoundError", "NodeError", "NodeStartError"]


class NodeError(RuntimeError):
    """Base class: the test node could not be provided."""


class DistributionError(NodeError):
    """No Elasticsearch distribution could be fetched, verified or unpacked."""


class JavaNotFoundError(NodeError):
    """No Java runtime new enough for Elasticsearch was found."""


class NodeStartError(NodeError):
    """The Elasticsearch process died or did not become ready in time."""
