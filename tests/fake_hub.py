"""A stand-in for the Hugging Face Hub on 127.0.0.1: the same URL layout (huggingface_hub constants.py and
hf_api.py: /{repo}/resolve/{revision}/{file}, /api/models/{repo}, /api/models?search=), Range requests answered
with 206 and Content-Range, X-Error-Code headers, private and gated repos behind a Bearer token, and a switch that
makes every answer stall."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class FakeRepo:
    files: dict[str, bytes | Path]
    safetensors_total: int | None = None
    private: bool = False
    gated: bool = False


@dataclass
class FakeHub:
    token: str = "hf_fake_secret_token_123456"
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    stall_s: float = 0.0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def add(self, repo: str, files: dict[str, bytes | Path | dict], **kw) -> None:
        self.repos[repo] = FakeRepo({k: json.dumps(v).encode() if isinstance(v, dict) else v
                                     for k, v in files.items()}, **kw)

    def start(self) -> str:
        hub = self
        self._lock = threading.Lock()
        self._release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with hub._lock:
                    hub.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                    hub.in_flight += 1
                    hub.max_in_flight = max(hub.max_in_flight, hub.in_flight)
                try:
                    if hub.stall_s:
                        hub._release.wait(hub.stall_s)
                    hub._answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with hub._lock:
                        hub.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- answers ------------------------------------------------------------------------------------------------
    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        path = unquote(url.path)
        if path == "/api/models":
            term = parse_qs(url.query).get("search", [""])[0].lower()
            hits = [{"id": r} for r in self.repos if term in r.lower()]
            return self._send(h, 200, json.dumps(hits).encode(), "application/json")
        if m := re.fullmatch(r"/api/models/([^/]+/[^/]+)", path):
            repo = self._repo(h, m[1], file=None)
            if repo is None:
                return
            body = {"id": m[1], "private": repo.private, "gated": "auto" if repo.gated else False,
                    "siblings": [{"rfilename": f} for f in repo.files]}
            if repo.safetensors_total:
                body["safetensors"] = {"parameters": {"BF16": repo.safetensors_total},
                                       "total": repo.safetensors_total}
            return self._send(h, 200, json.dumps(body).encode(), "application/json")
        if m := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
            repo = self._repo(h, m[1], file=m[3])
            if repo is None:
                return
            if m[3] not in repo.files:
                return self._send(h, 404, b"Entry not found", headers={"X-Error-Code": "EntryNotFound"})
            content = repo.files[m[3]]
            data = content.read_bytes() if isinstance(content, Path) else content
            return self._send_range(h, data)
        self._send(h, 404, b"Not found")

    def _repo(self, h, repo_id: str, file: str | None) -> FakeRepo | None:
        repo = self.repos.get(repo_id)
        authorized = h.headers.get("Authorization") == f"Bearer {self.token}"
        if repo is None or (repo.private and not authorized):
            # the Hub answers 401 + RepoNotFound for a private repo without a token, so as not to reveal it exists
            status = 401 if repo is not None else 404
            self._send(h, status, b"Repository not found", headers={"X-Error-Code": "RepoNotFound"})
            return None
        if repo.gated and file is not None and not authorized:
            status = 403 if h.headers.get("Authorization") else 401
            self._send(h, status, b"Access to this repo is restricted", headers={"X-Error-Code": "GatedRepo"})
            return None
        return repo

    def _send_range(self, h, data: bytes) -> None:
        rng = h.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if not m:
            return self._send(h, 200, data, "application/octet-stream")
        start = int(m[1])
        end = min(int(m[2]) if m[2] else len(data) - 1, len(data) - 1)
        if start >= len(data):
            return self._send(h, 416, b"", headers={"Content-Range": f"bytes */{len(data)}"})
        self._send(h, 206, data[start:end + 1], "application/octet-stream",
                   {"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"})

    @staticmethod
    def _send(h, status: int, body: bytes, ctype: str = "text/plain", headers: dict | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)


def wait_until(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False
