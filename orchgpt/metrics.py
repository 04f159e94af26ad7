"""Prometheus metrics, in a registry of their own (never the process-global one).

Nothing on the routing path calls prometheus-client: the switchboard keeps plain integer
counters and the collector below reads them, and the connections, at scrape time. Only a
finished request costs one histogram observation."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from autogpt.iac.envelope import Kind
from orchgpt.activity import Activity
from orchgpt.pauses import GENERATIONS, GcPauses
from orchgpt.switchboard import Switchboard

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Collector(Collector):
    def __init__(self, board: Switchboard, activity: Activity, pauses: GcPauses) -> None:
        self.board = board
        self.activity = activity
        self.pauses = pauses

    def collect(self) -> Iterator[Metric]:
        conns = list(self.board.connections.values())
        roles = GaugeMetricFamily("orchgpt_agents_connected", "Registered agent streams, by role.", labels=["role"])
        for role, count in sorted(Counter(c.role for c in conns).items()):
            roles.add_metric([role], count)
        yield roles
        kinds = CounterMetricFamily(
            "orchgpt_envelopes", "Valid envelopes received for routing, by kind.", labels=["kind"]
        )
        for kind in Kind:
            kinds.add_metric([kind.name.lower()], self.board.envelopes[kind])
        yield kinds
        yield CounterMetricFamily(
            "orchgpt_overloaded", "Envelopes refused with OVERLOADED (the recipient's queue was full).",
            value=self.board.overloaded,
        )  # fmt: skip
        queued = [c.queued for c in conns]
        yield GaugeMetricFamily(
            "orchgpt_queued_envelopes", "Envelopes waiting in all outbound queues.", value=sum(q[0] for q in queued)
        )
        yield GaugeMetricFamily(
            "orchgpt_queued_bytes", "Bytes waiting in all outbound queues.", value=sum(q[1] for q in queued)
        )
        yield GaugeMetricFamily(
            "orchgpt_queued_bytes_max", "Bytes waiting in the fullest outbound queue.",
            value=max((q[1] for q in queued), default=0),
        )  # fmt: skip
        outcomes = CounterMetricFamily(
            "orchgpt_requests", "Requests by ledger outcome (routed counts every request opened).", labels=["state"]
        )
        for state, count in sorted(self.activity.outcomes.items()):
            outcomes.add_metric([state], count)
        yield outcomes
        yield GaugeMetricFamily(
            "orchgpt_requests_in_flight", "Requests routed and not ended.", value=len(self.activity.open)
        )
        yield from self._pauses()

    def _pauses(self) -> Iterator[Metric]:
        p = self.pauses
        runs = CounterMetricFamily(
            "orchgpt_gc_collections", "Garbage collections, by generation (2: full).", labels=["generation"]
        )
        stopped = CounterMetricFamily(
            "orchgpt_gc_pause_seconds", "Seconds the process stood still collecting garbage.", labels=["generation"]
        )
        longest = GaugeMetricFamily(
            "orchgpt_gc_pause_seconds_max", "The longest single garbage collection.", labels=["generation"]
        )
        for g in range(GENERATIONS):
            runs.add_metric([str(g)], p.collections[g])
            stopped.add_metric([str(g)], p.seconds[g])
            longest.add_metric([str(g)], p.longest[g])
        frozen = GaugeMetricFamily(
            "orchgpt_gc_frozen_objects", "Objects kept out of every collection (those of start-up).",
            value=gc.get_freeze_count(),
        )  # fmt: skip
        yield from (runs, stopped, longest, frozen)


class Metrics:
    def __init__(self, board: Switchboard, activity: Activity) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "orchgpt_request_seconds", "Seconds from routing a request to its reply (or its end).",
            registry=self.registry, buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
        )  # fmt: skip
        activity.observe = self.latency.observe
        self.pauses = GcPauses()  # its hook is put in by the server while it serves
        self.registry.register(_Collector(board, activity, self.pauses))

    def render(self) -> bytes:
        return generate_latest(self.registry)
