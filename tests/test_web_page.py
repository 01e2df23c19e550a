"""The page in a real headless Chromium (Debian's `chromium`), against a real uvicorn server: a permalink's verdict,
the form without JavaScript (a GET form: its URL is the permalink), the same change through JavaScript (driven over
the DevTools protocol with a small websocket client), autocomplete, a knowledge entry, and screenshots at phone and
desktop widths. A missing browser fails these tests; it never skips them."""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

import httpx
import pytest

from bot.web.app import create_app
from bot.web.markdown import render_markdown
from tests.helpers import core_with
from tests.test_web_api import PERMALINK, serve

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"]
SCREENSHOTS = Path(os.environ.get("WEB_SCREENSHOT_DIR", tempfile.gettempdir())) / "willitrun-screenshots"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run installs it)")
    return found


@pytest.fixture(scope="module")
def base(core):
    with serve(create_app(core_with(core, web_rate_limit_per_minute=0))) as url:
        yield url


def dump_dom(url: str, javascript: bool = True) -> str:
    flags = [] if javascript else ["--blink-settings=scriptEnabled=false"]
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([chromium(), *FLAGS, *flags, f"--user-data-dir={profile}", "--dump-dom", url],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def verdict_of(dom: str) -> str:
    found = re.search(r'id="verdict"[^>]*data-verdict="([a-z_]+)"', dom)
    assert found, "no verdict on the page"
    return found.group(1)


class DevTools:
    """Just enough of a websocket client (RFC 6455: masked text frames out, unmasked frames in) to speak the
    DevTools protocol to one page."""

    def __init__(self, ws_url: str):
        u = urlparse(ws_url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(4096)
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.last_id = 0
        self.events: list[dict] = []

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            n = second & 0x7F
            if n >= 126:
                n = int.from_bytes(self._read(2 if n == 126 else 8), "big")
            payload = self._read(n)
            if first & 0x0F == 8:
                raise ConnectionError("DevTools closed the websocket")
            if first & 0x0F in (0, 1, 2):
                message += payload
                if first & 0x80:
                    return message.decode()

    def _send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
                                  if n < 65536 else bytes([0x80 | 127]) + n.to_bytes(8, "big"))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def call(self, method: str, **params) -> dict:
        self.last_id += 1
        self._send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._receive())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && !!document.getElementById('size-form')")


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium with the DevTools protocol on a free port, and a connection to its page."""
    profile = tempfile.mkdtemp()
    process = subprocess.Popen([chromium(), *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None and time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json() if t["type"] == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Log.enable")
        yield tools
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


def permalink(base: str, **change) -> str:
    return f"{base}/?{urlencode({**PERMALINK, **change})}"


def test_a_permalink_shows_its_verdict(base):
    dom = dump_dom(permalink(base))
    assert verdict_of(dom) == "fits"
    assert "Llama 3.3 70B" in dom and "/chart/breakdown.png?" in dom and 'alt="Memory of Llama 3.3 70B' in dom


def test_without_javascript_the_form_url_gives_the_new_verdict(base, browser):
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.open(permalink(base))
        assert browser.evaluate("document.documentElement.dataset.js") is None     # app.js did not run
        without_js = browser.evaluate("document.getElementById('verdict').dataset.verdict")
        # what the GET form submits after the GPU count is changed to 1: every field, defaults included
        browser.open(f"{base}/?" + urlencode({**PERMALINK, "gpus": 1, "kv_cache_type": "f16", "runtime": "llama.cpp"}))
        changed = browser.evaluate("document.getElementById('verdict').dataset.verdict")
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)
    assert without_js == verdict_of(dump_dom(permalink(base))) == "fits"
    assert changed == "partial_offload"


def test_with_javascript_changing_the_gpu_count_updates_the_verdict_and_the_url(base, browser):
    browser.open(permalink(base))
    assert browser.evaluate("document.getElementById('verdict').dataset.verdict") == "fits"
    browser.evaluate("const g = document.getElementById('gpus'); g.value = '1';"
                     "g.dispatchEvent(new Event('change', {bubbles: true}))")
    browser.wait_for("document.getElementById('verdict').dataset.verdict === 'partial_offload'")
    url = browser.evaluate("location.href")
    assert "gpus=1" in url and "model=llama-3.3-70b" in url
    # the CSP allowed the page's script and styles: nothing was blocked or thrown
    errors = [e for e in browser.events if e.get("method") == "Log.entryAdded"
              and e["params"]["entry"]["level"] == "error"]
    assert errors == []


def test_autocomplete_offers_catalog_names_while_typing(base, browser):
    browser.open(f"{base}/")
    browser.evaluate("const m = document.getElementById('model'); m.value = 'llama 3.3';"
                     "m.dispatchEvent(new Event('input', {bubbles: true}))")
    first = browser.wait_for("document.querySelector('#model-options option')?.value")
    assert first == "llama-3.3-70b"


def screenshot(browser: DevTools, url: str, width: int, path: Path) -> int:
    browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                 mobile=width < 600)
    browser.open(url)
    browser.wait_for("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    overflow = browser.evaluate("document.documentElement.scrollWidth")
    height = browser.evaluate("document.documentElement.scrollHeight")
    shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
    path.write_bytes(base64.b64decode(shot["data"]))
    return overflow


def test_screenshots_at_phone_and_desktop_widths(base, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for width in (390, 1280):
            path = SCREENSHOTS / f"result-{width}.png"
            scroll_width = screenshot(browser, permalink(base), width, path)
            assert scroll_width <= width, f"the page scrolls sideways at {width} px"
            png = path.read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == width
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")
    print(f"screenshots in {SCREENSHOTS}")


def test_a_knowledge_entry_has_its_own_page_with_sources(base):
    dom = dump_dom(f"{base}/kb/q4-k-m")
    assert '<h1 id="entry-title">Q4_K_M</h1>' in dom
    assert "<code>llama-quantize model-f16.gguf model-Q4_K_M.gguf Q4_K_M</code>" in dom
    assert 'href="https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/README.md"' in dom
    assert httpx.get(f"{base}/kb/q4_k_m").status_code == 308


def test_entry_markdown_is_escaped_before_anything_becomes_a_tag():
    rendered = render_markdown('<script>alert(1)</script> **bold** [x](javascript:alert(1)) [ok](https://a.b/c?d=1&e=2)'
                               '\n\n1. step `<b>`\n   ```bash\n   echo "<hi>"\n   ```\n2. next')
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert 'href="javascript' not in rendered and 'href="https://a.b/c?d=1&amp;e=2"' in rendered
    assert "<strong>bold</strong>" in rendered and "<code>&lt;b&gt;</code>" in rendered
    assert '<pre><code>echo "&lt;hi&gt;"</code></pre>' in rendered and rendered.count("<li>") == 2
