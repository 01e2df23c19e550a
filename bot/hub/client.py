"""HubClient: a name or repo id (and a quant) -> a model found on Hugging Face, or None.

One look-up reads the repo's API entry (file list, safetensors parameter count), then either the header of the
GGUF file of the quant asked for (Range requests: 1 MiB first, doubled while the header goes on, up to
hf_max_header_mb, as gguf-parser reads remote files) or its config.json. What was fetched is cached in the data
directory with its date; a stale entry answers at once while a background thread refreshes it, and an offline bot
(HF_HUB_OFFLINE=1) answers from the cache alone."""
from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

from bot.catalog.load import Catalog, load_catalog
from bot.hub.cache import HubCache
from bot.hub.config import model_from_config, normalize_id
from bot.hub.errors import HubError, HubFileError, HubNotFoundError
from bot.hub.http import Deadline, HubHttp
from bot.hub.names import RepoRef, bare_repo_name, repo_ref
from bot.hub.schema import HubRecord, HubResult
from bot.settings import Settings
from bot.sizing.gguf_file import GGUFHeader, GGUFNeedMore, parse_gguf_header, size_gguf_header
from bot.sizing.weights import SizedModel

log = logging.getLogger(__name__)

FIRST_READ = 2**20
# a repo without the quant asked for is sized from the first of these it has (llama.cpp's usual default first)
PREFERRED_QUANTS = ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q4_0", "Q6_K", "Q8_0", "Q3_K_M", "IQ4_XS", "Q2_K", "F16", "BF16")
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


def quant_in_name(filename: str, quant: str) -> bool:
    """Whether a GGUF file name carries the quant: Q4_K matches 'x.Q4_K.gguf', not 'x-Q4_K_M.gguf'."""
    stem = PurePosixPath(filename).name.upper()
    return re.search(rf"(?<![A-Z0-9]){re.escape(quant.upper())}(?![A-Z0-9]|_[A-Z0-9])", stem) is not None


class HubClient:
    """Thread-safe; at most hf_max_concurrent look-ups reach the Hub at once."""

    def __init__(self, settings: Settings, catalog: Catalog | None = None):
        self.settings = settings
        self._catalog = catalog
        self.http = HubHttp(settings)
        self.cache = HubCache(settings.data_dir / "hub-cache.sqlite3")
        self._slots = threading.BoundedSemaphore(max(1, settings.hf_max_concurrent))
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.settings.knowledge_dir)
        return self._catalog

    @property
    def offline(self) -> bool:
        return self.settings.hf_hub_offline

    # -- the one entry point ------------------------------------------------------------------------------------
    def lookup(self, name_or_repo: str, quant: str | None = None) -> HubResult | None:
        """The model `name_or_repo` names on Hugging Face, sized exactly from a GGUF header when the repo has GGUF
        files. None for a text that names no repo, and offline when nothing is cached. Raises a HubError with a
        one-line reason for a missing, private, malformed or unreachable repo."""
        try:
            ref = self._ref(name_or_repo, quant)
            if ref is None:
                return None
            key = _key(ref)
            cached = self.cache.record(key)
            if cached is not None:
                record, fetched_at = cached
                stale = datetime.now(UTC) - fetched_at > timedelta(days=self.settings.hf_cache_days)
                if stale and not self.offline:
                    self._refresh_in_background(ref, key)
                return self._result(record, stale=stale)
            if self.offline:
                return None
            record = self._fetch(ref)
            self.cache.put(key, record)
            return self._result(record)
        except HubError as exc:
            raise type(exc)(self.http.redact(str(exc))) from None

    # -- names --------------------------------------------------------------------------------------------------
    def _ref(self, text: str, quant: str | None) -> RepoRef | None:
        ref = repo_ref(text, quant, self.http.endpoint)
        if ref is not None:
            return ref
        name = bare_repo_name(text)
        if name is None:
            return None
        key = f"search:{name.lower()}"
        found = self.cache.get(key)
        if found is not None:
            return RepoRef(found[0]["repo"], quant) if found[0].get("repo") else None
        if self.offline:
            return None
        with self._slots:
            hits = self.http.get_json(f"{self.http.endpoint}/api/models", f"a search for {name}",
                                      Deadline.after(self.settings.hf_timeout_s),
                                      params={"search": name, "sort": "downloads", "limit": 20})
        # only an exact name: the most downloaded repo called that (the original, usually, not a re-upload)
        repo = next((h["id"] for h in hits if isinstance(h, dict) and str(h.get("id", "")).lower().split("/")[-1]
                     == name.lower()), None)
        self.cache.put(key, {"repo": repo})
        return RepoRef(repo, quant) if repo else None

    # -- fetching -----------------------------------------------------------------------------------------------
    def _refresh_in_background(self, ref: RepoRef, key: str) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def refresh():
            try:
                self.cache.put(key, self._fetch(ref))
            except HubError as exc:
                log.warning("hub: refreshing %s failed: %s", ref.repo, self.http.redact(str(exc)))
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        threading.Thread(target=refresh, name=f"hub-refresh-{ref.repo}", daemon=True).start()

    def _fetch(self, ref: RepoRef) -> HubRecord:
        with self._slots:
            deadline = Deadline.after(self.settings.hf_timeout_s)
            info = self.http.get_json(self.http.api_url(ref.repo, ref.revision), ref.repo, deadline)
            files = [s.get("rfilename", "") for s in info.get("siblings") or [] if isinstance(s, dict)]
            ggufs = [f for f in files if f.lower().endswith(".gguf") and "mmproj" not in f.lower()]
            today = datetime.now(UTC).date()
            if ggufs and (ref.quant or "config.json" not in files):
                file = self._pick_gguf(ref, ggufs)
                header = self._read_header(ref, file, ggufs, deadline)
                log.info("hub: read the GGUF header of %s/%s (%d tensors)", ref.repo, file, len(header.tensors))
                return HubRecord(kind="gguf", repo=ref.repo, revision=ref.revision, fetched=today, file=file,
                                 header=header.to_json())
            if files and "config.json" not in files:
                raise HubFileError(f"{ref.repo} has neither a config.json nor GGUF files: nothing to size it from.")
            config = self.http.get_json(self.http.file_url(ref.repo, ref.revision, "config.json"),
                                        f"{ref.repo} config.json", deadline)
            if not isinstance(config, dict):
                raise HubFileError(f"{ref.repo}'s config.json is not a JSON object.")
            total = (info.get("safetensors") or {}).get("total")
            log.info("hub: read the config.json of %s", ref.repo)
            return HubRecord(kind="config", repo=ref.repo, revision=ref.revision, fetched=today, config=config,
                             params_total=int(total) if isinstance(total, int | float) else None)

    def _pick_gguf(self, ref: RepoRef, ggufs: list[str]) -> str:
        wanted = [ref.quant] if ref.quant else [q for q in PREFERRED_QUANTS if any(quant_in_name(f, q) for f in ggufs)]
        firsts = [f for f in ggufs if not _SPLIT.search(f) or int(_SPLIT.search(f)[1]) == 1]
        for quant in wanted:
            matches = sorted((f for f in firsts if quant_in_name(f, quant)), key=lambda f: (bool(_SPLIT.search(f)), f))
            if matches:
                return matches[0]
        if ref.quant:
            have = sorted({_quant_of(f) for f in ggufs} - {""})
            raise HubNotFoundError(f"{ref.repo} has no {ref.quant} GGUF file"
                                   + (f"; it has {', '.join(have)}." if have else "."))
        return sorted(firsts)[0]

    def _read_header(self, ref: RepoRef, file: str, ggufs: list[str], deadline: Deadline) -> GGUFHeader:
        split = _SPLIT.search(file)
        if not split:
            return self._read_one_header(ref, file, deadline)
        count = int(split[2])
        names = [file[:split.start()] + f"-{i:05d}-of-{count:05d}.gguf" for i in range(1, count + 1)]
        header = None
        for name in names:      # each shard of a gguf-split model holds its own tensors' table
            part = self._read_one_header(ref, name, deadline)
            header = part if header is None else header.merged(part)
        return header

    def _read_one_header(self, ref: RepoRef, file: str, deadline: Deadline) -> GGUFHeader:
        url = self.http.file_url(ref.repo, ref.revision, file)
        what = f"{ref.repo}/{file}"
        cap = self.http.max_bytes
        asked = min(FIRST_READ, cap)
        data, total = self.http.get_range(url, what, 0, asked - 1, deadline)
        while True:
            try:
                return parse_gguf_header(data, what)
            except GGUFNeedMore as more:
                if len(data) < asked or (total is not None and more.needed > total):
                    raise HubFileError(f"{what} ends inside its own header: the file on the Hub is truncated.") \
                        from None
                if more.needed > cap:
                    raise HubFileError(f"{what} has a header longer than the {cap / 2**20:.0f} MB a look-up reads "
                                       "(HF_MAX_HEADER_MB).") from None
                asked = min(max(more.needed, 2 * len(data)), cap, total or cap)
                more_data, total = self.http.get_range(url, what, len(data), asked - 1, deadline)
                data += more_data

    # -- records to results -------------------------------------------------------------------------------------
    def _result(self, record: HubRecord, stale: bool = False) -> HubResult:
        endpoint = self.http.endpoint
        fetched = record.fetched.isoformat()
        common = dict(url=self.http.repo_url(record.repo), repo=record.repo, revision=record.revision,
                      fetched=record.fetched, stale=stale)
        if record.kind == "gguf":
            header = GGUFHeader.from_json(record.header)
            file_url = self.http.file_url(record.repo, record.revision, record.file)
            model_id = normalize_id(f"{record.repo.split('/')[0]}-{PurePosixPath(record.file).stem}")
            sized = size_gguf_header(header, self.catalog, model_id, PurePosixPath(record.file).stem, file_url)
            model = sized.model.model_copy(update={"aliases": [record.repo],
                                                   "sources": [file_url, f"{endpoint}/{record.repo}"]})
            sized = SizedModel(model, sized.quant, sized.layout)
            return HubResult(model=model, sized=sized, quant=sized.quant.name, file=record.file,
                             source_note=f"from the header of {record.file} on Hugging Face, fetched {fetched}",
                             **common)
        model = model_from_config(record.config, record.repo, endpoint, record.revision, record.params_total)
        return HubResult(model=model, source_note=f"from the model's config.json on Hugging Face, fetched {fetched}",
                         **common)

    def close(self) -> None:
        self.http.close()


def _key(ref: RepoRef) -> str:
    return f"{ref.repo}@{ref.revision}:{(ref.quant or '').upper()}"


def _quant_of(filename: str) -> str:
    m = re.search(r"(?<![A-Z0-9])((?:UD-)?I?Q\d[A-Z0-9_]*?|F16|BF16|F32)(?:-\d{5}-of-\d{5})?\.GGUF$",
                  PurePosixPath(filename).name.upper())
    return m[1] if m else ""

