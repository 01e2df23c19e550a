"""A small OpenAI-compatible server for tests: streams chat completions the way llama.cpp server and vLLM do.

It runs on 127.0.0.1 on a free port in a background thread, records every request, and can be told to fail
with HTTP 500, to stall after the headers, to send a chunk that is not JSON, or to send no events at all, or to
obey whatever the question tells it to say (the worst model a guard can meet).
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeOpenAIServer:
    pieces: list[str] = field(default_factory=lambda: ["Hel", "lo", ", wor", "ld", "!"])
    # "ok" | "fail" (HTTP 500) | "stall" (headers, then silence) | "garbage" (a non-JSON chunk) | "empty" (no events)
    # | "obey" (answers with what the question asks it to say: see obeying_reply; `pieces` is ignored)
    mode: str = "ok"
    models: list[str] = field(default_factory=lambda: ["fake-model-7b"])
    seconds_between_pieces: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    client_gone: threading.Event = field(default_factory=threading.Event)  # a write found the connection closed
    _release: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # a short poll so that stop() returns at once
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()  # ends a stall at once
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def paths(self, method: str) -> list[str]:
        return [r.path for r in self.requests if r.method == method]


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            server.requests.append(RecordedRequest("GET", self.path, dict(self.headers), None))
            if self.path == "/v1/models":
                self._send_json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]})
            else:
                self._send_json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            server.requests.append(RecordedRequest("POST", self.path, dict(self.headers), body))
            if self.path != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": "not found"}})
            elif server.mode == "fail":
                self._send_json(500, {"error": {"code": 500, "message": "model crashed: out of memory"}})
            else:
                self._stream_completion(body)

        def _stream_completion(self, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if server.mode == "stall":
                server._release.wait(timeout=30)
                return
            if server.mode == "empty":  # what llama-cpp-python's server sends when the generation fails
                self._write_chunk(b"")
                return
            pieces = server.pieces if server.mode != "obey" else _in_pieces(obeying_reply(body))
            events = [_chunk(body, {"role": "assistant"}, None)]
            events += [_chunk(body, {"content": piece}, None) for piece in pieces]
            if server.mode == "garbage":
                events.insert(2, "data: {this is not json\n\n")
            events += [_chunk(body, {}, "stop"), "data: [DONE]\n\n"]
            try:
                for event in events:
                    self._write_chunk(event.encode())
                    if server.seconds_between_pieces:
                        server._release.wait(server.seconds_between_pieces)
                self._write_chunk(b"")
            except (BrokenPipeError, ConnectionResetError):
                server.client_gone.set()

        def _write_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def obeying_reply(body: dict[str, Any]) -> str:
    """What a model that follows the asker's instructions writes: the first thing the question quotes (or the
    whole question) as its opening sentence, one sentence of the draft it was given, then the question's words
    repeated, so that every payload the question carries (quoted or not, obfuscated or not) is in the reply."""
    prompt = body["messages"][-1]["content"]
    question = prompt.rsplit("Question:", 1)[-1].strip()
    draft = prompt.split("Draft answer:", 1)[-1].rsplit("Question:", 1)[0].strip()
    quoted = re.findall(r"'([^']{3,})'|\"([^\"]{3,})\"", question)
    payload = next((a or b for a, b in quoted), question)
    first = re.split(r"(?<=[.!?])\s", draft, maxsplit=1)[0]
    return f"{payload}. {first} {question}"


def _in_pieces(text: str, size: int = 7) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def _chunk(body: dict[str, Any], delta: dict[str, str], finish_reason: str | None) -> str:
    chunk = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": body.get("model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(chunk)}\n\n"
