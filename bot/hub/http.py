"""HTTP to the Hugging Face Hub: its URL layout, the token, timeouts, a cap on what is read, and one-line errors.

URL layout and headers as huggingface_hub builds them (constants.py HUGGINGFACE_CO_URL_TEMPLATE,
hf_api.py model_info, utils/_headers.py build_hf_headers, utils/_http.py hf_raise_for_status):
  {endpoint}/{repo}/resolve/{revision}/{file}      a file (LFS files redirect to a CDN; Range is honoured there)
  {endpoint}/api/models/{repo}[/revision/{rev}]    siblings (the file list), safetensors.total, gated, private
  {endpoint}/api/models?search=...&sort=downloads  the search behind bare names
  Authorization: Bearer {HF_TOKEN}; errors carry X-Error-Code (RepoNotFound, GatedRepo, EntryNotFound, ...).
httpx drops the Authorization header when a redirect leaves the endpoint's origin, so the CDN never sees it."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from bot.hub.errors import HubAccessError, HubError, HubFileError, HubNotFoundError, HubUnavailableError
from bot.settings import Settings

JSON_CAP = 8 * 2**20     # a model's API answer is tens of kB; a config.json a few kB


@dataclass
class Deadline:
    """One look-up's time, all its requests together."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def left(self) -> float:
        return self.at - time.monotonic()


class HubHttp:
    def __init__(self, settings: Settings):
        self.endpoint = settings.hf_endpoint.rstrip("/")
        self._token = settings.hf_token.get_secret_value() if settings.hf_token else None
        self.connect_timeout = settings.hf_connect_timeout_s
        self.max_bytes = int(settings.hf_max_header_mb * 2**20)
        self.client = httpx.Client(follow_redirects=True, headers={"user-agent": "willitrun-bot"},
                                   timeout=httpx.Timeout(settings.hf_timeout_s, connect=self.connect_timeout))

    # -- URLs ---------------------------------------------------------------------------------------------------
    def file_url(self, repo: str, revision: str, filename: str) -> str:
        return f"{self.endpoint}/{repo}/resolve/{quote(revision, safe='')}/{quote(filename)}"

    def api_url(self, repo: str, revision: str = "main") -> str:
        base = f"{self.endpoint}/api/models/{repo}"
        return base if revision == "main" else f"{base}/revision/{quote(revision, safe='')}"

    def repo_url(self, repo: str) -> str:
        return f"{self.endpoint}/{repo}"

    # -- requests -----------------------------------------------------------------------------------------------
    def get_json(self, url: str, what: str, deadline: Deadline, params: dict | None = None):
        body, _ = self._get(url, what, deadline, params=params, want=min(JSON_CAP, self.max_bytes), whole=True)
        try:
            return json.loads(body)
        except ValueError:
            raise HubFileError(f"{what} is not valid JSON.") from None

    def get_range(self, url: str, what: str, start: int, end: int, deadline: Deadline) -> tuple[bytes, int | None]:
        """Bytes start..end (inclusive) of a file, and the file's full size when the server says it."""
        return self._get(url, what, deadline, headers={"Range": f"bytes={start}-{end}"}, want=end + 1, skip=start)

    def _get(self, url: str, what: str, deadline: Deadline, *, want: int, params: dict | None = None,
             headers: dict | None = None, skip: int = 0, whole: bool = False) -> tuple[bytes, int | None]:
        """The body (at most `want` bytes from the file's start, less the first `skip`), and the file's size.
        `whole`: the body must fit in `want`, or the look-up fails (a document too large to be what it claims)."""
        left = deadline.left()
        if left <= 0:
            raise HubUnavailableError(f"Hugging Face did not answer in time for {what}.")
        headers = dict(headers or {})
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        timeout = httpx.Timeout(left, connect=min(self.connect_timeout, left))
        try:
            with self.client.stream("GET", url, params=params, headers=headers, timeout=timeout) as resp:
                self._check(resp, what)
                # a 206 starts at `skip`; a server that ignores Range sends the file from its first byte
                start = skip if resp.status_code == 206 else 0
                limit = want - start
                chunks, got = [], 0
                for chunk in resp.iter_bytes():
                    chunks.append(chunk)
                    got += len(chunk)
                    if got > limit:
                        break
                    if deadline.left() <= 0:
                        raise HubUnavailableError(f"Hugging Face did not answer in time for {what}.")
                if whole and got > limit:
                    raise HubFileError(f"{what} is larger than the {limit / 2**20:.0f} MB a look-up reads.")
                return b"".join(chunks)[skip - start:limit], _total_size(resp)
        except httpx.TimeoutException:
            raise HubUnavailableError(f"Hugging Face did not answer in time for {what}.") from None
        except httpx.HTTPError as exc:
            raise HubUnavailableError(f"Hugging Face could not be reached for {what} ({type(exc).__name__}).") from None

    def _check(self, resp: httpx.Response, what: str) -> None:
        status = resp.status_code
        if status in (200, 206):
            return
        code = resp.headers.get("x-error-code", "")
        if code == "RepoNotFound" or (status == 404 and code == "" and "/api/models/" in str(resp.url)):
            raise HubNotFoundError(f"No Hugging Face repo for {what} (or it is private and HF_TOKEN cannot read "
                                   "it).")
        if status == 404:
            raise HubNotFoundError(f"Hugging Face has no {what} (404).")
        if code == "GatedRepo" or (status == 403 and "gated" in resp.headers.get("x-error-message", "").lower()):
            if not self._token:
                raise HubAccessError(f"{what} is in a gated repo ({status}): set HF_TOKEN to a token of an account "
                                     "that has accepted its terms on the repo page.")
            raise HubAccessError(f"{what} is in a gated repo ({status}): accept its terms on the repo page with the "
                                 "account whose token is in HF_TOKEN.")
        if status in (401, 403):
            if self._token:
                raise HubAccessError(f"Hugging Face refused HF_TOKEN for {what} ({status}): check that the token is "
                                     "valid and can read this repo.")
            raise HubAccessError(f"{what} is private or gated ({status}): set HF_TOKEN to a token that can read it.")
        if status == 416:
            raise HubFileError(f"{what} is shorter than its header says: the file on the Hub is truncated.")
        if status == 429 or status >= 500:
            raise HubUnavailableError(f"Hugging Face is busy or failing ({status}) for {what}; try again later.")
        raise HubError(f"Hugging Face answered {status} for {what}.")

    def redact(self, text: str) -> str:
        return text.replace(self._token, "hf_***") if self._token else text

    def close(self) -> None:
        self.client.close()


def _total_size(resp: httpx.Response) -> int | None:
    content_range = resp.headers.get("content-range")      # "bytes 0-1048575/98362432"
    if content_range and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1]
        return int(tail) if tail.isdigit() else None
    length = resp.headers.get("content-length")
    return int(length) if resp.status_code == 200 and length and length.isdigit() else None
