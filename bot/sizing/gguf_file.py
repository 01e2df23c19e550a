"""Exact mode: size a local GGUF from its header (the real tensor list and hyperparameters), not from the catalog."""
from __future__ import annotations

from pathlib import Path

from gguf import GGUFReader, LlamaFileType

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
    reader, arch = open_gguf(path)
    get = lambda key, default=None: _field(reader, f"{arch}.{key}", default)  # noqa: E731
    n_layers = int(get("block_count"))
    hidden = int(get("embedding_length"))
    heads = int(get("attention.head_count"))
    kv_heads = get("attention.head_count_kv", heads)
    kv_heads = [int(x) for x in kv_heads] if isinstance(kv_heads, list) else int(kv_heads)
    if isinstance(kv_heads, list) and len(set(kv_heads)) == 1:
        kv_heads = kv_heads[0]
    head_k = int(get("attention.key_length", hidden // heads))
    head_v = int(get("attention.value_length", hidden // heads))
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    vocab = int(get("vocab_size", len(tokens.data) if tokens else 0))
    ffn = get("feed_forward_length")
    ffn = int(max(ffn)) if isinstance(ffn, list) else (int(ffn) if ffn else None)
    n_expert = int(get("expert_count", 0) or 0)
    window = get("attention.sliding_window")
    lora = get("attention.kv_lora_rank")

    specs: list[tuple[TensorSpec, str, int]] = []
    for t in reader.tensors:
        name = t.name.removesuffix(".weight")
        layer = int(name.split(".")[1]) if name.startswith("blk.") else None
        category = "token_embd" if name == "token_embd" else ("output" if layer is None else "other")
        spec = TensorSpec(name, category, layer, int(t.n_elements), int(t.shape[0]), expert="_exps" in name)
        specs.append((spec, t.tensor_type.name, int(t.n_bytes)))
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
        id=path.stem.lower().replace("_", "-").replace(" ", "-"), name=_field(reader, "general.name", path.stem),
        family=arch, architecture=arch, params_b=params / 1e9, active_params_b=active / 1e9, layers=n_layers,
        hidden_size=hidden, intermediate_size=ffn or (None if moe else hidden * 4), attention_heads=heads,
        kv_heads=kv_heads, head_dim_k=head_k, head_dim_v=head_v, vocab_size=vocab,
        context_length=int(get("context_length", 4096)), tied_embeddings=tied,
        sliding_window=SlidingWindow(window=int(window), global_every=SWA_GLOBAL_EVERY[arch])
        if window and arch in SWA_GLOBAL_EVERY else None,
        mla=MLA(kv_lora_rank=int(lora), rope_dim=int(get("rope.dimension_count", 64))) if lora else None,
        moe=moe, sources=[path.as_uri()],
    )
    ftype_id = _field(reader, "general.file_type")
    ftype_name = LlamaFileType(int(ftype_id)).name.removeprefix("MOSTLY_") if ftype_id is not None else "GUESSED"
    try:
        ft = catalog.file_type(ftype_name)
    except Exception:
        ft = FileType(name=ftype_name, format="gguf", default_type="F16", quality_rank=0, sources=[path.as_uri()])
    layout = build_layout(specs, n_layers, tied, moe.active / moe.experts if moe else 1.0)
    return SizedModel(model, ft, layout)
