"""A throwaway, real Elasticsearch node for tests, started and stopped by odm itself.

``ensure_node()`` gives the process one node (or the cluster at ``$ODM_ES_URL``);
``ElasticsearchNode`` starts, stops, kills and restarts nodes explicitly;
``ElasticsearchCluster`` runs several nodes as one cluster; ``secure_node()`` gives
the process a node with security, TLS and a superuser; ``python -m odm.testing``
runs one in the foreground; ``FaultProxy`` (``odm.testing.faults``) sits between a
client and the node and injects 429s, 503s, resets, stalls and latency; the
``odm.testing.pytest_plugin`` pytest plugin offers the ``es_node``, ``es_url``,
``index_prefix`` and ``odm_client`` fixtures. How it works, its environment variables
and what the node lacks: docs/test-node.md.

Only the standard library talks HTTP here, so this package does not depend on the
async client.
"""

from odm.testing._cluster import ElasticsearchCluster
from odm.testing._distribution import KNOWN_VERSIONS
from odm.testing._errors import DistributionError, JavaNotFoundError, NodeError, NodeStartError
from odm.testing._node import (
    ElasticsearchNode,
    NodeInfo,
    describe_node,
    ensure_node,
    node_url_from_env,
    secure_node,
)
from odm.testing.examples import run_example
from odm.testing.faults import FaultProxy
from odm.testing.isolation import isolated

__all__ = [
    "KNOWN_VERSIONS",
    "DistributionError",
    "ElasticsearchCluster",
    "ElasticsearchNode",
    "FaultProxy",
    "JavaNotFoundError",
    "NodeError",
    "NodeInfo",
    "NodeStartError",
    "describe_node",
    "ensure_node",
    "isolated",
    "node_url_from_env",
    "run_example",
    "secure_node",
]
