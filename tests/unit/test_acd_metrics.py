"""Per-queue series exist at zero for every known queue before its first call."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from callcenter.acd.board import Board, QueueSpec
from callcenter.acd.metrics import AcdMetrics, figures


def test_known_queues_have_their_series_at_zero() -> None:
    registry = CollectorRegistry()
    metrics = AcdMetrics(registry)
    board = Board()
    board.configure([QueueSpec("sales"), QueueSpec("support")], [], 0.0)
    metrics.watch(lambda: figures(board, 0.0))
    text = generate_latest(registry).decode()  # the first scrape already has them
    for queue in ("sales", "support"):
        assert f'callcenter_queue_answered_within_sla_total{{queue="{queue}"}} 0.0' in text
        assert f'callcenter_queue_calls_total{{outcome="answered",queue="{queue}"}} 0.0' in text
        assert f'callcenter_queue_calls_total{{outcome="abandoned",queue="{queue}"}} 0.0' in text


def test_no_board_no_series() -> None:
    registry = CollectorRegistry()
    AcdMetrics(registry)
    assert "callcenter_queue_answered_within_sla_total{" not in generate_latest(registry).decode()
