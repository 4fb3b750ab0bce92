"""A real multi-node Elasticsearch cluster on loopback, for tests of routing, replicas and failover.

Every node is an :class:`~odm.testing.ElasticsearchNode` with its own temporary
directory, a small heap and ports the OS picks. How they find each other, without
guessing free ports: the first node starts with no seed hosts and binds its transport
port; as soon as its ``logs/transport.ports`` names that port, the other nodes start
with it as their only seed host. (Elasticsearch writes that file only once the node
has a master or has given up waiting for one for ``discovery.initial_state_timeout``,
30 s by default: the first node waits 1 s.) Peer discovery is two-way, so the first node learns
of the others when they contact it, and once all of ``cluster.initial_master_nodes``
(every node's name) are in touch they elect a master. A node started again later
seeds from every running node and leaves ``cluster.initial_master_nodes`` out (the
cluster exists; bootstrapping is done).
"""

from __future__ import annotations

import time
import urllib.error
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from odm.testing._errors import NodeError, NodeStartError
from odm.testing._http import request_json
from odm.testing._node import ElasticsearchNode, NodeInfo, describe_node

__all__ = ["ElasticsearchCluster"]


class ElasticsearchCluster:
    """``nodes`` real Elasticsearch nodes on 127.0.0.1 forming one cluster.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. Every node is
    master-eligible and holds data, so a cluster of three keeps a quorum when one
    node is stopped (not when two are).

    Example::

        with ElasticsearchCluster(nodes=3) as cluster:
            client = AsyncElasticsearch(hosts=cluster.urls)
            cluster.stop_node(1)       # a node goes away; the other two carry on
            cluster.start_node(1)      # and comes back, empty, with a new port
    """

    def __init__(
        self,
        nodes: int = 3,
        version: str | None = None,
        *,
        name: str | None = None,
        heap: str = "256m",
        settings: Mapping[str, Any] | None = None,
        cache_dir: Path | None = None,
        java_home: Path | None = None,
        startup_timeout: float = 180.0,
        stop_timeout: float = 30.0,
    ) -> None:
        """Configure, without starting anything.

        Args:
            nodes: how many nodes (at least 1).
            version, cache_dir, java_home, stop_timeout: as for ``ElasticsearchNode``.
            name: ``cluster.name``; default ``odm-cluster-<random>``, so two clusters
                on one machine never join each other. Nodes are ``<name>-0``, ``<name>-1``, ...
            heap: each node's heap (``-Xms`` and ``-Xmx``).
            settings: ``elasticsearch.yml`` settings for every node, merged over the
                generated ones (None removes one).
            startup_timeout: seconds for all nodes to form the cluster and turn yellow.
        """
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        self.name = name or f"odm-cluster-{uuid.uuid4().hex[:8]}"
        self._startup_timeout = startup_timeout
        self.nodes: list[ElasticsearchNode] = [
            ElasticsearchNode(
                version,
                cache_dir=cache_dir,
                java_home=java_home,
                startup_timeout=startup_timeout,
                stop_timeout=stop_timeout,
                heap=heap,
                settings={
                    **(settings or {}),
                    "cluster.name": self.name,
                    "node.name": self.node_name(i),
                    "discovery.type": None,
                },
            )
            for i in range(nodes)
        ]
        self._infos: list[NodeInfo | None] = [None] * nodes

    def node_name(self, i: int) -> str:
        """``node.name`` of node ``i``."""
        return f"{self.name}-{i}"

    @property
    def running(self) -> list[int]:
        """Indexes of the nodes that are running."""
        return [i for i, node in enumerate(self.nodes) if node.pid is not None and self._infos[i] is not None]

    @property
    def infos(self) -> list[NodeInfo]:
        """URL, version and modules of each running node, in node order."""
        return [info for info in self._infos if info is not None]

    @property
    def urls(self) -> list[str]:
        """Base URLs of the running nodes, in node order: give them all to the client."""
        return [info.url for info in self.infos]

    @property
    def url(self) -> str:
        """Base URL of the first running node.

        Raises:
            NodeError: no node is running.
        """
        urls = self.urls
        if not urls:
            raise NodeError("no node of the cluster is running; call start() first")
        return urls[0]

    def start(self) -> list[NodeInfo]:
        """Start every node and wait until they form one cluster of ``nodes`` nodes, yellow.

        Raises:
            NodeStartError: a node died, or the cluster did not form within ``startup_timeout``.
            NodeError, DistributionError, JavaNotFoundError: as for ``ElasticsearchNode.start``.
        """
        if any(node.pid is not None for node in self.nodes):
            raise NodeError("this cluster is already running")
        deadline = time.monotonic() + self._startup_timeout
        names = [self.node_name(i) for i in range(len(self.nodes))]
        try:
            first, *others = self.nodes
            # Elasticsearch writes its ports files only once it has a master or has
            # waited discovery.initial_state_timeout (30 s) for one: the first node stops
            # waiting after 1 s, so that the others learn its transport port early.
            first.settings.update({"discovery.seed_hosts": [], "cluster.initial_master_nodes": names,
                                   "discovery.initial_state_timeout": "1s"})
            first._launch()
            seed = self._transport_address(first, deadline)
            for node in others:
                node.settings.update({"discovery.seed_hosts": [seed], "cluster.initial_master_nodes": names})
                node._launch()
            self._await(list(range(len(self.nodes))), deadline)
        except BaseException:
            self.stop()
            raise
        return self.infos

    def stop_node(self, i: int) -> None:
        """Stop node ``i`` (SIGTERM, as a clean shutdown) and delete its directory."""
        self._infos[i] = None
        self.nodes[i].stop()

    def kill_node(self, i: int) -> None:
        """SIGKILL node ``i`` (a crash); its directory and data stay for :meth:`start_node`."""
        self._infos[i] = None
        self.nodes[i].kill()

    def start_node(self, i: int) -> NodeInfo:
        """Start node ``i`` again and wait until it has joined the cluster.

        After :meth:`kill_node` it restarts on its own data; after :meth:`stop_node` it
        starts empty. Either way it gets new ports.

        Raises:
            NodeError: node ``i`` is running, or no other node is.
            NodeStartError: it did not join within ``startup_timeout``.
        """
        node = self.nodes[i]
        if node.pid is not None:
            raise NodeError(f"node {i} of the cluster is already running")
        seeds = [address for j in self.running if (address := self.nodes[j].transport_address) is not None]
        if not seeds:
            raise NodeError("no other node of the cluster is running to join; use start()")
        node.settings["discovery.seed_hosts"] = seeds
        node.settings.pop("cluster.initial_master_nodes", None)  # the cluster was bootstrapped once
        try:
            node._launch()
            self._await([i], time.monotonic() + self._startup_timeout, expected=len(self.running) + 1)
        except BaseException:
            self.stop_node(i)
            raise
        info = self._infos[i]
        assert info is not None
        return info

    def health(self, **params: str) -> dict[str, Any]:
        """``GET /_cluster/health`` from a running node, e.g. ``health(wait_for_status="green")``.

        Raises:
            NodeError: no node answered.
        """
        query = "&".join(f"{key}={value}" for key, value in params.items())
        problems = []
        for url in self.urls:
            try:
                status, body = request_json("GET", f"{url}/_cluster/health?{query}", timeout=120)
            except (urllib.error.URLError, OSError) as exc:
                problems.append(f"{url}: {exc}")
                continue
            if isinstance(body, dict) and "status" in body:
                return body
            problems.append(f"{url}: {status} {body}")
        raise NodeError("no node of the cluster answered GET /_cluster/health: " + "; ".join(problems))

    def wait_for(self, status: str = "green", *, nodes: int | None = None, timeout: str = "60s") -> dict[str, Any]:
        """Wait for the cluster health ``status`` with ``nodes`` nodes (default: the running ones).

        Raises:
            NodeError: not reached within ``timeout``.
        """
        count = len(self.running) if nodes is None else nodes
        body = self.health(wait_for_status=status, wait_for_nodes=str(count), timeout=timeout,
                           wait_for_no_initializing_shards="true")
        if body.get("timed_out"):
            raise NodeError(f"the cluster did not reach {status} with {count} nodes within {timeout}: {body}")
        return body

    def stop(self) -> None:
        """Stop every node and delete their directories. Safe to call twice."""
        for i in range(len(self.nodes)):
            self.stop_node(i)

    def __enter__(self) -> ElasticsearchCluster:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ElasticsearchCluster {self.name}: {len(self.running)} of {len(self.nodes)} nodes running>"

    def _transport_address(self, node: ElasticsearchNode, deadline: float) -> str:
        while (address := node.transport_address) is None:
            node._check_running(deadline)
            time.sleep(0.1)
        return address

    def _await(self, indexes: list[int], deadline: float, *, expected: int | None = None) -> None:
        """Wait until every node of ``indexes`` answers and the cluster has ``expected`` nodes, yellow."""
        count = len(self.nodes) if expected is None else expected
        while True:
            for i in indexes:
                self.nodes[i]._check_running(deadline)
            urls = [self.nodes[i]._http_url() for i in indexes]
            if all(url is not None and _formed(url, count) for url in urls):
                for i, url in zip(indexes, urls, strict=True):
                    assert url is not None
                    self._infos[i] = describe_node(url)
                return
            if time.monotonic() > deadline:
                tails = "\n".join(f"-- node {i}:\n{self.nodes[i].log_tail(15)}" for i in indexes)
                raise NodeStartError(f"the cluster did not form with {count} nodes in time:\n{tails}")
            time.sleep(0.5)


def _formed(url: str, nodes: int) -> bool:
    """Whether the node at ``url`` is in a cluster of ``nodes`` nodes with a master, yellow or green."""
    path = f"/_cluster/health?wait_for_nodes={nodes}&wait_for_status=yellow&timeout=1s&master_timeout=1s"
    try:
        status, body = request_json("GET", url + path, timeout=10)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return status == 200 and isinstance(body, dict) and body.get("timed_out") is False
