"""Web speed (`make bench`): `willitrun web` with two uvicorn workers on this machine, loaded by 50 concurrent
clients (httpx AsyncClient) asking `/api/v1/size` for a mix of real requests (the permalinks people share, so
each worker's report cache is warm after the first round, as in production); target >= 300 requests/s with p95
< 50 ms. Also the page render time (`/` with a result, p50/p95) and a chart (first draw and cached).

The clients run on the same two cores as the server, so the figure is a floor for a machine where they do not.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from urllib.parse import urlencode

import httpx

CLIENTS = 50
TARGET_RPS = 300
TARGET_P95_MS = 50.0
REQUESTS = [
    {"model": m, "gpu": g, "gpus": n, "context": c}
    for m in ("llama-3.3-70b", "llama-3.1-8b", "qwen2.5-32b", "mistral-7b", "qwen2.5-72b")
    for g, n in (("rtx-3090", 2), ("rtx-4090", 1), ("rtx-3060", 1), ("m2-max", 1))
    for c in (8192, 32768)
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "WEB_PORT": str(port), "WEB_WORKERS": str(workers), "WEB_ACCESS_LOG": "false",
           "WEB_RATE_LIMIT_PER_MINUTE": "0", "LLM_ENABLED": "false"}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_ready(base: str, server: subprocess.Popen, workers: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                time.sleep(3 * workers)      # the other workers build their cores too
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not start")


def request_bytes(host: str, params: dict) -> bytes:
    return (f"GET /api/v1/size?{urlencode(params)} HTTP/1.1\r\nHost: {host}\r\n"
            "Accept: application/json\r\n\r\n").encode()


async def read_response(reader: asyncio.StreamReader) -> int:
    """One HTTP/1.1 response off a kept-alive connection; its status code. The server always sends
    Content-Length for these JSON answers."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return status


async def load(base: str, seconds: float, rate: float | None = None) -> tuple[int, list[float], int]:
    """Closed loop (each client asks again as soon as it has its answer: the most the server does) or, with
    `rate`, each client paced so that together they offer `rate` requests/s (the latency at that load).

    The clients share the server's two cores, so they are kept lean, as wrk is: each holds one kept-alive
    connection and writes prepared request bytes (an httpx client spent about as much CPU per request as the
    server, which measured the client as much as the server)."""
    host, port = base.removeprefix("http://").split(":")
    prepared = [request_bytes(f"{host}:{port}", r) for r in REQUESTS]
    latencies: list[float] = []
    failures = 0
    stop = time.monotonic() + seconds
    began = time.perf_counter()

    async def one_client(i: int) -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, int(port))
        n = i
        try:
            while time.monotonic() < stop:
                start = time.perf_counter()
                if rate:
                    # request n is due at n / rate: the clients take turns, so arrivals are spread evenly instead
                    # of 50 at once; latency counts from when it was due (a late send is the server's delay too,
                    # as wrk2 measures, so queueing cannot hide)
                    due = began + n / rate
                    await asyncio.sleep(max(0.0, due - start))
                    start = due
                writer.write(prepared[n % len(prepared)])
                status = await read_response(reader)
                latencies.append((time.perf_counter() - start) * 1000)
                failures += status != 200
                n += CLIENTS
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one_client(i) for i in range(CLIENTS)))
    elapsed = time.monotonic() - started
    return int(len(latencies) / elapsed), latencies, failures


def page_times(base: str, n: int = 40) -> tuple[list[float], float, float]:
    with httpx.Client(base_url=base, timeout=30) as client:
        times = []
        for i in range(n):
            start = time.perf_counter()
            assert client.get("/", params=REQUESTS[i % len(REQUESTS)]).status_code == 200
            times.append((time.perf_counter() - start) * 1000)
        chart = {"model": "llama-3.1-8b", "gpu": "rtx-4070", "context": 12288}
        start = time.perf_counter()
        client.get("/chart/breakdown.png", params=chart)
        first = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        client.get("/chart/breakdown.png", params=chart)
        cached = (time.perf_counter() - start) * 1000
    return times, first, cached


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers)
    try:
        wait_ready(base, server, args.workers)
        asyncio.run(load(base, 3.0))                        # warm up: every worker's caches and connections
        rps, latencies, failures = asyncio.run(load(base, args.seconds))
        paced_rps, paced, paced_failures = asyncio.run(load(base, args.seconds, rate=TARGET_RPS))
        pages, chart_first, chart_cached = page_times(base)
    finally:
        server.terminate()
        server.wait(20)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    paced_p95 = percentile(paced, 0.95)
    ok = rps >= TARGET_RPS and paced_p95 < TARGET_P95_MS and failures == paced_failures == 0
    print(f"web /api/v1/size, {args.workers} uvicorn workers, {CLIENTS} concurrent clients on {os.cpu_count()} "
          f"cores, {len(REQUESTS)} distinct requests, {args.seconds:g} s:")
    print(f"  as fast as they can: {rps} requests/s (target >= {TARGET_RPS}), p50 {p50:.1f} ms / p95 {p95:.1f} ms, "
          f"{failures} failed")
    print(f"  offered {TARGET_RPS} requests/s: {paced_rps} served, p50 {percentile(paced, 0.5):.1f} ms / p95 "
          f"{paced_p95:.1f} ms (target p95 < {TARGET_P95_MS:g} ms), {paced_failures} failed "
          f"  {'OK' if ok else 'MISSED'}")
    print(f"  page with a result: p50 {statistics.median(pages):.1f} ms / p95 {percentile(pages, 0.95):.1f} ms; "
          f"breakdown chart {chart_first:.0f} ms first, {chart_cached:.1f} ms cached")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
