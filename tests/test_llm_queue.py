"""GenerationQueue: one generation at a time, a bounded line, places in line, cancelling, errors kept per job."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest

from bot.llm.base import LLMError, Message
from bot.llm.queue import GenerationQueue, JobState, QueueFull


class GatedBackend:
    """Stands in for a model: a generation waits until the test opens its gate, then yields the prompt's words.

    It counts generations running at the same time, and a prompt starting with "fail" raises LLMError.
    """

    name = "gated"

    def __init__(self, seconds_per_word: float = 0.0, all_open: bool = False):
        self.seconds_per_word = seconds_per_word
        self.all_open = all_open
        self.started: list[str] = []
        self.running_now = 0
        self.most_running_at_once = 0
        self._gates: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def open(self, prompt: str) -> None:
        self._gate(prompt).set()

    def _gate(self, prompt: str) -> threading.Event:
        with self._lock:
            return self._gates.setdefault(prompt, threading.Event())

    def stream(self, messages: list[Message], *, max_tokens: int = 200, temperature: float = 0.0,
               stop: list[str] | None = None, cancel: threading.Event | None = None) -> Iterator[str]:
        prompt = messages[-1]["content"]
        with self._lock:
            self.started.append(prompt)
            self.running_now += 1
            self.most_running_at_once = max(self.most_running_at_once, self.running_now)
        try:
            while not (self.all_open or self._gate(prompt).wait(0.005)):
                if cancel is not None and cancel.is_set():
                    return
            if prompt.startswith("fail"):
                raise LLMError("the model fell over")
            for word in prompt.split()[:max_tokens]:
                if cancel is not None and cancel.is_set():
                    return
                time.sleep(self.seconds_per_word)
                yield word
        finally:
            with self._lock:
                self.running_now -= 1


def ask(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


async def text_of(stream: AsyncIterator[str]) -> str:
    return " ".join([piece async for piece in stream])


async def collect(iterator: AsyncIterator[int]) -> list[int]:
    return [item async for item in iterator]


def test_never_two_generations_run_together_and_they_run_in_submission_order():
    backend = GatedBackend(seconds_per_word=0.01, all_open=True)

    async def scenario():
        queue = GenerationQueue(backend)
        jobs = [await queue.submit(ask(f"answer number {n}")) for n in range(3)]
        texts = await asyncio.gather(*(text_of(job.stream()) for job in jobs))
        await queue.close()
        return texts

    texts = asyncio.run(scenario())

    assert texts == ["answer number 0", "answer number 1", "answer number 2"]
    assert backend.started == ["answer number 0", "answer number 1", "answer number 2"]
    assert backend.most_running_at_once == 1


def test_positions_start_at_0_1_2_and_each_job_is_told_as_it_moves_up():
    backend = GatedBackend()

    async def scenario():
        queue = GenerationQueue(backend)
        first, second, third = [await queue.submit(ask(p)) for p in ("first", "second", "third")]
        initial = [first.position, second.position, third.position]
        moves_of_second = asyncio.create_task(collect(second.positions()))
        moves_of_third = asyncio.create_task(collect(third.positions()))
        for job, prompt in ((first, "first"), (second, "second"), (third, "third")):
            backend.open(prompt)
            await text_of(job.stream())
        await queue.close()
        return initial, await moves_of_second, await moves_of_third

    initial, moves_of_second, moves_of_third = asyncio.run(scenario())

    assert initial == [0, 1, 2]
    assert moves_of_second == [1, 0]
    assert moves_of_third == [2, 1, 0]


def test_submitting_when_the_line_is_full_raises_queue_full_at_once():
    backend = GatedBackend()

    async def scenario():
        queue = GenerationQueue(backend, max_waiting=2)
        for prompt in ("running", "waiting one", "waiting two"):
            await queue.submit(ask(prompt))
        try:
            with pytest.raises(QueueFull) as caught:
                await queue.submit(ask("one too many"))
            return caught.value, queue.waiting
        finally:
            await queue.close()

    error, waiting = asyncio.run(scenario())

    assert isinstance(error, LLMError)
    assert waiting == 2


def test_cancelling_a_waiting_job_removes_it_and_moves_the_others_up():
    backend = GatedBackend()

    async def scenario():
        queue = GenerationQueue(backend)
        first, second, third = [await queue.submit(ask(p)) for p in ("first", "second", "third")]
        second.cancel()
        after_cancel = (second.state, third.position, queue.waiting)
        backend.open("first")
        backend.open("third")
        texts = [await text_of(job.stream()) for job in (first, second, third)]
        await queue.close()
        return after_cancel, texts

    (state, third_position, waiting), texts = asyncio.run(scenario())

    assert state is JobState.CANCELLED
    assert third_position == 1
    assert waiting == 1
    assert texts == ["first", "", "third"]
    assert backend.started == ["first", "third"]


def test_an_error_in_one_job_reaches_its_reader_and_the_next_job_still_runs():
    backend = GatedBackend(all_open=True)

    async def scenario():
        queue = GenerationQueue(backend)
        failing = await queue.submit(ask("fail please"))
        following = await queue.submit(ask("still answered"))
        with pytest.raises(LLMError, match="fell over"):
            await text_of(failing.stream())
        text = await text_of(following.stream())
        await queue.close()
        return text

    assert asyncio.run(scenario()) == "still answered"


def test_cancelling_the_running_job_stops_the_backend_and_starts_the_next():
    backend = GatedBackend()

    async def scenario():
        queue = GenerationQueue(backend)
        running = await queue.submit(ask("never opened"))
        waiting = await queue.submit(ask("next in line"))
        backend.open("next in line")
        running.cancel()
        text = await asyncio.wait_for(text_of(waiting.stream()), timeout=5)
        await queue.close()
        return running.state, text

    state, text = asyncio.run(scenario())

    assert state is JobState.CANCELLED
    assert text == "next in line"


def test_a_reader_that_stops_early_cancels_its_generation():
    backend = GatedBackend(seconds_per_word=0.01, all_open=True)

    async def scenario():
        queue = GenerationQueue(backend)
        job = await queue.submit(ask(" ".join(f"w{i}" for i in range(500))))
        async with aclosing(job.stream()) as pieces:
            async for _ in pieces:
                break
        started = time.monotonic()
        await queue.close()
        return job.state, time.monotonic() - started

    state, seconds_to_stop = asyncio.run(scenario())

    assert state is JobState.CANCELLED
    assert seconds_to_stop < 1.0  # the remaining 499 words would take about 5 s
