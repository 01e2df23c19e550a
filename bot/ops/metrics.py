"""Optional Prometheus metrics: questions by route, answer latency, queue depth, generation speed, retrieval score,
feedback. Off unless METRICS_PORT is set; then it needs the `prometheus-client` package.

Every metric lives in the `Metrics` object's own registry (not prometheus_client's process-wide default), so two
bots in one process, or two tests, never share counts. The adapter holds one `Metrics` and calls its `record_*`
methods; `NullMetrics` takes the same calls and does nothing, so the adapter never asks whether metrics are on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import WillItRunError
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.answer.schema import Answer

NAMESPACE = "willitrun"
# answers range from a sizing report (milliseconds) to a long generation behind a queue (a minute or more)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0)
# from a CPU running a small model (a few tokens/s) to a datacenter GPU (hundreds)
SPEED_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))


class MetricsRecorder(Protocol):
    def record_answer(self, answer: Answer, generated_tokens: int | None = None) -> None: ...
    def record_feedback(self, up: bool) -> None: ...
    def set_queue_depth(self, n: int) -> None: ...


class NullMetrics:
    """Metrics switched off: every call is accepted and ignored."""

    def record_answer(self, answer: Answer, generated_tokens: int | None = None) -> None:
        pass

    def record_feedback(self, up: bool) -> None:
        pass

    def set_queue_depth(self, n: int) -> None:
        pass


def _prometheus() -> Any:
    try:
        import prometheus_client
    except ImportError as exc:
        raise WillItRunError("METRICS_PORT is set, but prometheus-client is not installed: "
                             "`pip install prometheus-client`, or unset METRICS_PORT.") from exc
    return prometheus_client


class Metrics:
    def __init__(self) -> None:
        prom = _prometheus()
        self.registry = prom.CollectorRegistry()
        r, ns = self.registry, NAMESPACE
        self.questions = prom.Counter("questions", "Questions answered, by the route they took (the answer's kind).",
                                      ["route"], namespace=ns, registry=r)
        self.fallbacks = prom.Counter("answer_fallbacks", "Knowledge answers taken from the entries because the "
                                      "model's text failed the guard or the model failed.", namespace=ns, registry=r)
        self.latency = prom.Histogram("answer_seconds", "Time from question to finished answer.", ["route"],
                                      buckets=LATENCY_BUCKETS, namespace=ns, registry=r)
        self.queue_depth = prom.Gauge("queue_depth", "Questions waiting for the language model.",
                                      namespace=ns, registry=r)
        self.tokens_per_second = prom.Histogram("generation_tokens_per_second", "Generation speed after the "
                                                "first token.", buckets=SPEED_BUCKETS, namespace=ns, registry=r)
        self.retrieval_score = prom.Histogram("retrieval_top_score", "Score of the best knowledge entry for "
                                              "questions answered from the knowledge base (1.0: a pasted error "
                                              "string matched).", buckets=SCORE_BUCKETS, namespace=ns, registry=r)
        self.feedback = prom.Counter("feedback", "Feedback votes on answers.", ["vote"], namespace=ns, registry=r)

    def record_answer(self, answer: Answer, generated_tokens: int | None = None) -> None:
        """Count one finished answer. `generated_tokens`: how many tokens the model produced (default: what the
        Answer says it streamed); with the answer's timings it gives the generation speed."""
        self.questions.labels(route=answer.kind).inc()
        if "total" in answer.timings:
            self.latency.labels(route=answer.kind).observe(answer.timings["total"] / 1000)
        if answer.kind == "knowledge":
            self.retrieval_score.observe(answer.confidence)   # a knowledge answer's confidence is its match score
            if answer.fallback:
                self.fallbacks.inc()
        speed = tokens_per_second(answer.timings, generated_tokens or answer.generated_tokens)
        if speed is not None:
            self.tokens_per_second.observe(speed)

    def record_feedback(self, up: bool) -> None:
        self.feedback.labels(vote="up" if up else "down").inc()

    def set_queue_depth(self, n: int) -> None:
        self.queue_depth.set(n)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format, as the endpoint serves them."""
        return _prometheus().generate_latest(self.registry)


def tokens_per_second(timings: dict[str, float], generated_tokens: int | None) -> float | None:
    """Decode speed: tokens after the first over the time after the first (the first token's wait is prompt
    processing, which depends on the prompt, not the model's speed). None when it cannot be told."""
    if not generated_tokens or generated_tokens < 2 or "generation" not in timings or "first_token" not in timings:
        return None
    seconds = (timings["generation"] - timings["first_token"]) / 1000
    return (generated_tokens - 1) / seconds if seconds > 0 else None


def start_metrics_server(port: int, metrics: Metrics, address: str = "0.0.0.0") -> Any:
    """Serve `metrics` at http://address:port/metrics from a daemon thread; returns the server (`.shutdown()`)."""
    server, _thread = _prometheus().start_http_server(port, addr=address, registry=metrics.registry)
    return server


def metrics_from_settings(settings: Settings) -> Metrics | NullMetrics:
    """Metrics served on METRICS_PORT, or NullMetrics when it is not set."""
    if settings.metrics_port is None:
        return NullMetrics()
    metrics = Metrics()
    start_metrics_server(settings.metrics_port, metrics)
    return metrics
