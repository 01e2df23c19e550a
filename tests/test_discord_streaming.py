"""Streaming by edits: at most one edit per interval for a message, only the latest text sent, always a final edit,
and one message's edits never slow another message down."""
import asyncio
import time

INTERVAL = 0.1


class Recorder:
    def __init__(self, fail_first: int = 0):
        self.edits: list[tuple[float, str]] = []
        self.fail_first = fail_first
        self.elapsed = 0.0      # how long the stream took, whatever the machine's load

    async def __call__(self, text: str) -> None:
        if self.fail_first:
            self.fail_first -= 1
            raise RuntimeError("edit refused")
        self.edits.append((time.monotonic(), text))


def stream(pieces: int, seconds_between: float, fail_first: int = 0) -> Recorder:
    from bot.discord.streaming import ThrottledEdits

    async def main() -> Recorder:
        recorder = Recorder(fail_first)
        start = time.monotonic()
        edits = ThrottledEdits(recorder, interval=INTERVAL)
        text = ""
        for i in range(pieces):
            text += f"piece{i} "
            edits.push(text)
            await asyncio.sleep(seconds_between)
        await edits.finish(text + "[final]")
        recorder.elapsed = time.monotonic() - start
        return recorder

    return asyncio.run(main())


def gaps(recorder: Recorder) -> list[float]:
    times = [t for t, _ in recorder.edits]
    return [b - a for a, b in zip(times, times[1:])]


def test_edits_are_at_least_one_interval_apart():
    recorder = stream(pieces=60, seconds_between=0.005)
    assert len(recorder.edits) >= 2
    assert min(gaps(recorder)) >= INTERVAL * 0.95


def test_fast_pieces_are_merged_into_few_edits():
    recorder = stream(pieces=60, seconds_between=0.005)      # about 0.3 s of text, 60 pieces
    assert len(recorder.edits) <= recorder.elapsed / INTERVAL + 2 < 60


def test_the_last_edit_is_the_final_text():
    recorder = stream(pieces=10, seconds_between=0.03)
    assert recorder.edits[-1][1].endswith("[final]")


def test_every_preview_is_a_prefix_of_the_final_text():
    recorder = stream(pieces=30, seconds_between=0.01)
    final = recorder.edits[-1][1]
    assert all(final.startswith(text) for _, text in recorder.edits)


def test_a_failed_preview_edit_does_not_stop_the_final_one():
    recorder = stream(pieces=5, seconds_between=0.01, fail_first=1)
    assert recorder.edits[-1][1].endswith("[final]")


def test_two_messages_stream_independently():
    from bot.discord.streaming import ThrottledEdits

    async def main() -> tuple[Recorder, Recorder]:
        first, second = Recorder(), Recorder()
        a, b = ThrottledEdits(first, interval=INTERVAL), ThrottledEdits(second, interval=INTERVAL)
        a.push("a")
        b.push("b")
        await asyncio.sleep(0.02)
        return first, second

    first, second = asyncio.run(main())
    assert [t for _, t in first.edits] == ["a"] and [t for _, t in second.edits] == ["b"]
