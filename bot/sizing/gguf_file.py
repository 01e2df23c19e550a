"""Exact mode: size a local GGUF from its header (the real tensor list and hyperparameters), not from the catalog."""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFReader, GGUFValueType, LlamaFileType

from bot.catalog.load import Catalog
from bot.catalog.schema import MLA, FileType, Model, MoE, SlidingWindow
from bot.errors import InvalidRequestError
from bot.sizing.tensors import TensorSpec
from bot.sizing.weights import SizedModel, build_layout

# how often a full-attention layer comes among sliding-window ones, per architecture (llama.cpp's hparams setup)
SWA_GLOBAL_EVERY = {"gemma2": 2, "gemma3": 6, "gpt-oss": 2, "llama4": 4}


def _field(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def open_gguf(path: str | Path) -> tuple[GGUFReader, str]:
    """The reader of a model GGUF and its architecture; a clear error for a missing, broken or non-model file.
    The reader maps the file and makes a view of every tensor the table lists; a view past the end of a cut-off
    download fails, so a truncated file is caught without reading any tensor data."""
    path = Path(path)
    if not path.is_file():
        raise InvalidRequestError(f"No GGUF file at {path}.")
    try:
        reader = GGUFReader(str(path))
    except Exception as exc:  # the gguf package raises bare ValueErrors and struct errors on damaged files
        raise InvalidRequestError(f"{path} is not a readable GGUF file ({type(exc).__name__}: {exc}); a truncated "
                                  "download is the usual cause: download it again.") from exc
    arch = _field(reader, "general.architecture")
    if not arch:
        raise InvalidRequestError(f"{path} has no general.architecture key: it is not a model GGUF.")
    return reader, str(arch)


def read_gguf(path: str | Path, catalog: Catalog) -> SizedModel:
    """The model, file type and weight layout of a GGUF file, from its header and tensor table."""
    path = Path(path)
    reader, _ = open_gguf(path)
    model_id = path.stem.lower().replace("_", "-").replace(" ", "-")
    return size_gguf_header(header_of_reader(reader), catalog, model_id, path.stem, path.resolve().as_uri())


# -- a header as data: from a mapped file (GGUFReader) or from the first bytes of a remote file ------------------
# arrays longer than this keep only their length (the tokenizer's vocabulary and merges: the sizing reads neither)
_SHORT_ARRAY = 4096


@dataclass(frozen=True)
class GGUFTensorInfo:
    name: str
    type_name: str               # ggml type, e.g. Q4_K
    shape: tuple[int, ...]       # ne[0] first, as the file stores it
    n_elements: int
    n_bytes: int


@dataclass(frozen=True)
class GGUFHeader:
    """What sizing reads from a GGUF: its key-value metadata and its tensor table (never the tensor data)."""

    fields: dict[str, Any]           # scalars and short arrays
    array_lengths: dict[str, int]    # every array's length, long ones included
    tensors: tuple[GGUFTensorInfo, ...]
    size: int = 0                    # bytes up to the end of the tensor table

    @property
    def architecture(self) -> str | None:
        arch = self.fields.get("general.architecture")
        return str(arch) if arch else None

    def to_json(self) -> dict:
        return {"fields": self.fields, "array_lengths": self.array_lengths, "size": self.size,
                "tensors": [[t.name, t.type_name, list(t.shape), t.n_elements, t.n_bytes] for t in self.tensors]}

    @classmethod
    def from_json(cls, data: dict) -> GGUFHeader:
        tensors = tuple(GGUFTensorInfo(n, ty, tuple(sh), ne, nb) for n, ty, sh, ne, nb in data["tensors"])
        return cls(data["fields"], data["array_lengths"], tensors, data.get("size", 0))

    def merged(self, other: GGUFHeader) -> GGUFHeader:
        """This header with the tensors of another shard of the same split model (llama.cpp's gguf-split)."""
        return GGUFHeader(self.fields, self.array_lengths, self.tensors + other.tensors, self.size + other.size)


def header_of_reader(reader: GGUFReader) -> GGUFHeader:
    fields: dict[str, Any] = {}
    lengths: dict[str, int] = {}
    for key, f in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        if f.types and f.types[0] == GGUFValueType.ARRAY:
            lengths[key] = len(f.data)
            if len(f.data) > _SHORT_ARRAY:
                continue
        fields[key] = f.contents()
    tensors = tuple(GGUFTensorInfo(t.name, t.tensor_type.name, tuple(int(x) for x in t.shape), int(t.n_elements),
                                   int(t.n_bytes)) for t in reader.tensors)
    return GGUFHeader(fields, lengths, tensors, int(reader.data_offset))


class GGUFNeedMore(Exception):  # noqa: N818 (a signal to read further, not a failure)
    """The bytes given end inside the header; `needed` is how many bytes the parser wants at least."""

    def __init__(self, needed: int):
        self.needed = needed
        super().__init__(f"the GGUF header continues past {needed} bytes")


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# far beyond any real model (DeepSeek V3 has 1,025 tensors and 163 keys): larger counts mean a damaged header
_MAX_COUNT = 1_000_000


class _Cursor:
    def __init__(self, data: bytes | memoryview, name: str):
        self.data = memoryview(data)
        self.pos = 0
        self.name = name

    def take(self, n: int) -> memoryview:
        end = self.pos + n
        if end > len(self.data):
            raise GGUFNeedMore(end)
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def unpack(self, fmt: str):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def count(self, what: str) -> int:
        n = self.unpack("<Q")
        if n > _MAX_COUNT:
            raise InvalidRequestError(f"{self.name} is not a readable GGUF file: it claims {n:,} {what}.")
        return n

    def string(self) -> str:
        n = self.unpack("<Q")
        if n > 1 << 24:
            raise InvalidRequestError(f"{self.name} is not a readable GGUF file: a {n:,}-byte string in its header.")
        return bytes(self.take(n)).decode("utf-8", errors="replace")

    def value(self, type_id: int):
        if type_id == _STRING:
            return self.string()
        if type_id in _SCALARS:
            return self.unpack(_SCALARS[type_id])
        raise InvalidRequestError(f"{self.name} is not a readable GGUF file: unknown value type {type_id}.")

    def array(self) -> tuple[list | None, int]:
        item_type = self.unpack("<I")
        n = self.count("array items")
        if item_type in _SCALARS:
            raw = self.take(n * struct.calcsize(_SCALARS[item_type]))
            return (list(struct.unpack(f"<{n}{_SCALARS[item_type][1]}", raw)) if n <= _SHORT_ARRAY else None), n
        if item_type == _STRING:
            values = [self.string() for _ in range(n)]
            return (values if n <= _SHORT_ARRAY else None), n
        if item_type == _ARRAY:   # nested arrays: no key sizing reads has them; step over them
            for _ in range(n):
                self.array()
            return None, n
        raise InvalidRequestError(f"{self.name} is not a readable GGUF file: unknown array type {item_type}.")


def parse_gguf_header(data: bytes | memoryview, name: str = "the file") -> GGUFHeader:
    """The header of a GGUF file from its first bytes (gguf spec: magic, version, counts, key-values, tensor infos).
    Raises GGUFNeedMore when `data` ends inside the header, InvalidRequestError when it is not a GGUF header."""
    cur = _Cursor(data, name)
    if bytes(cur.take(4)) != b"GGUF":
        raise InvalidRequestError(f"{name} is not a GGUF file (no GGUF magic at its start).")
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise InvalidRequestError(f"{name} is GGUF version {version}; only versions 2 and 3 (little-endian) are read.")
    n_tensors, n_kv = cur.count("tensors"), cur.count("metadata keys")
    fields: dict[str, Any] = {}
    lengths: dict[str, int] = {}
    for _ in range(n_kv):
        key = cur.string()
        type_id = cur.unpack("<I")
        if type_id == _ARRAY:
            values, lengths[key] = cur.array()
            if values is not None:
                fields[key] = values
        else:
            fields[key] = cur.value(type_id)
    tensors = []
    for _ in range(n_tensors):
        tname = cur.string()
        n_dims = cur.unpack("<I")
        if n_dims > 8:
            raise InvalidRequestError(f"{name} is not a readable GGUF file: tensor {tname} has {n_dims} dimensions.")
        shape = tuple(cur.unpack("<Q") for _ in range(n_dims))
        type_id = cur.unpack("<I")
        cur.unpack("<Q")   # the tensor's offset in the data section: sizing never reads the data
        try:
            qtype = GGMLQuantizationType(type_id)
        except ValueError:
            raise InvalidRequestError(f"{name}: tensor {tname} has ggml type {type_id}, unknown to this build's "
                                      "gguf package.") from None
        block, type_size = GGML_QUANT_SIZES[qtype]
        n_elements = math.prod(shape)
        tensors.append(GGUFTensorInfo(tname, qtype.name, shape, n_elements, n_elements * type_size // block))
    return GGUFHeader(fields, lengths, tuple(tensors), cur.pos)


def size_gguf_header(header: GGUFHeader, catalog: Catalog, model_id: str, name: str, source: str) -> SizedModel:
    """The model, file type and weight layout a GGUF header describes: what `willitrun size --gguf` sizes, whether
    the header came from a local file or from the first megabytes of a remote one."""
    arch = header.architecture
    if not arch:
        raise InvalidRequestError(f"{source} has no general.architecture key: it is not a model GGUF.")
    get = lambda key, default=None: header.fields.get(f"{arch}.{key}", default)  # noqa: E731
    n_layers = int(get("block_count"))
    hidden = int(get("embedding_length"))
    heads = int(get("attention.head_count"))
    kv_heads = get("attention.head_count_kv", heads)
    kv_heads = [int(x) for x in kv_heads] if isinstance(kv_heads, list) else int(kv_heads)
    if isinstance(kv_heads, list) and len(set(kv_heads)) == 1:
        kv_heads = kv_heads[0]
    head_k = int(get("attention.key_length", hidden // heads))
    head_v = int(get("attention.value_length", hidden // heads))
    vocab = int(get("vocab_size", header.array_lengths.get("tokenizer.ggml.tokens", 0)))
    ffn = get("feed_forward_length")
    ffn = int(max(ffn)) if isinstance(ffn, list) else (int(ffn) if ffn else None)
    n_expert = int(get("expert_count", 0) or 0)
    window = get("attention.sliding_window")
    lora = get("attention.kv_lora_rank")

    specs: list[tuple[TensorSpec, str, int]] = []
    for t in header.tensors:
        tname = t.name.removesuffix(".weight")
        layer = int(tname.split(".")[1]) if tname.startswith("blk.") else None
        category = "token_embd" if tname == "token_embd" else ("output" if layer is None else "other")
        spec = TensorSpec(tname, category, layer, int(t.n_elements), int(t.shape[0]), expert="_exps" in tname)
        specs.append((spec, t.type_name, int(t.n_bytes)))
    tied = not any(s.name == "output" for s, _, _ in specs)
    params = sum(s.n_elements for s, _, _ in specs)
    expert_used = int(get("expert_used_count", 0) or 0)
    moe = None
    if n_expert > 1:
        moe = MoE(experts=n_expert, active=max(expert_used, 1),
                  expert_ffn=int(get("expert_feed_forward_length", ffn or 1)))
    expert_params = sum(s.n_elements for s, _, _ in specs if s.expert)
    active = params - expert_params * (1 - (moe.active / moe.experts)) if moe else params
    model = Model(
        id=model_id, name=header.fields.get("general.name", name),
        family=arch, architecture=arch, params_b=params / 1e9, active_params_b=active / 1e9, layers=n_layers,
        hidden_size=hidden, intermediate_size=ffn or (None if moe else hidden * 4), attention_heads=heads,
        kv_heads=kv_heads, head_dim_k=head_k, head_dim_v=head_v, vocab_size=vocab,
        context_length=int(get("context_length", 4096)), tied_embeddings=tied,
        sliding_window=SlidingWindow(window=int(window), global_every=SWA_GLOBAL_EVERY[arch])
        if window and arch in SWA_GLOBAL_EVERY else None,
        mla=MLA(kv_lora_rank=int(lora), rope_dim=int(get("rope.dimension_count", 64))) if lora else None,
        moe=moe, sources=[source],
    )
    ftype_id = header.fields.get("general.file_type")
    ftype_name = LlamaFileType(int(ftype_id)).name.removeprefix("MOSTLY_") if ftype_id is not None else "GUESSED"
    try:
        ft = catalog.file_type(ftype_name)
    except Exception:
        ft = FileType(name=ftype_name, format="gguf", default_type="F16", quality_rank=0, sources=[source])
    layout = build_layout(specs, n_layers, tied, moe.active / moe.experts if moe else 1.0)
    return SizedModel(model, ft, layout)
