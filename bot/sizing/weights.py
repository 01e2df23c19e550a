"""Weight bytes of a model at a quantization, grouped the way llama.cpp places them on devices."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

from bot.catalog.load import Catalog
from bot.catalog.schema import FileType, Model
from bot.sizing.quant_mix import MixContext, tensor_type
from bot.sizing.tensors import TensorSpec, model_tensors


@dataclass(frozen=True)
class WeightLayout:
    """Bytes per placement unit. llama.cpp keeps token_embd in host memory, offloads blocks from the last one
    down, and puts the output head on the last GPU once every block is offloaded."""

    layer_bytes: tuple[int, ...]          # blk.i, all tensors
    layer_expert_bytes: tuple[int, ...]   # blk.i, routed-expert tensors only (movable to RAM with --cpu-moe)
    token_embd_bytes: int
    output_bytes: int                     # output head + final norm; a tied model's copy of token_embd
    file_bytes: int                       # every tensor once: what the GGUF file holds
    active_expert_fraction: float         # share of routed-expert bytes read per token (active / experts)
    bytes_by_type: dict[str, int]
    tied: bool = False                    # output head is token_embd: on the host it is the same mapped memory

    @property
    def n_layers(self) -> int:
        return len(self.layer_bytes)

    @cached_property
    def _read_prefix(self) -> tuple[float, ...]:
        """Running totals of what a decode step reads per block, so that any run of blocks costs O(1): `choose`
        asks this of hundreds of setups per question."""
        per_block = (b - e + e * self.active_expert_fraction for b, e in zip(self.layer_bytes, self.layer_expert_bytes))
        return (0.0, *accumulate(per_block))

    def bytes_read_per_token(self, layers: range, include_output: bool) -> float:
        """Weights a decode step reads on these blocks (a run of consecutive ones): dense tensors fully, routed
        experts by active share."""
        total = self._read_prefix[layers.stop] - self._read_prefix[layers.start] if layers else 0.0
        return total + (self.output_bytes if include_output else 0)


@dataclass(frozen=True)
class SizedModel:
    """A model as the runtimes size it: architecture (for KV and compute) and its weights at one quantization."""

    model: Model
    quant: FileType
    layout: WeightLayout


# the same model at another quantization (by name): how a runtime tries the next step of its ladder
SizedAt = Callable[[Model, str], SizedModel]


def tensor_bytes(n_elements: int, type_name: str, catalog: Catalog) -> int:
    t = catalog.tensor_type(type_name)
    return -(-n_elements // t.block_size) * t.bytes_per_block


def build_layout(named_sizes: list[tuple[TensorSpec, str, int]], n_layers: int, tied: bool,
                 active_fraction: float) -> WeightLayout:
    layer = [0] * n_layers
    expert = [0] * n_layers
    embd = output = 0
    by_type: dict[str, int] = defaultdict(int)
    for spec, type_name, size in named_sizes:
        by_type[type_name] += size
        if spec.layer is not None:
            layer[spec.layer] += size
            if spec.expert:
                expert[spec.layer] += size
        elif spec.category == "token_embd":
            embd += size
        else:
            output += size
    file_bytes = sum(s for _, _, s in named_sizes)
    if tied:
        output += embd
    return WeightLayout(tuple(layer), tuple(expert), embd, output, file_bytes, active_fraction, dict(by_type), tied)


def catalog_layout(model: Model, ft: FileType, catalog: Catalog) -> WeightLayout:
    """Layout of a catalog model at file type `ft`, tensor by tensor."""
    tensors = model_tensors(model)
    active = model.moe.active / model.moe.experts if model.moe else 1.0
    sized: list[tuple[TensorSpec, str, int]] = []
    if ft.format != "gguf":
        for t in tensors:
            if t.category == "norm":
                type_name, size = "F32", t.n_elements * 4
            elif t.category in ("token_embd", "output"):
                type_name, size = "F16", t.n_elements * 2
            else:
                type_name, size = ft.name, round(t.n_elements * ft.linear_bpw / 8)
            sized.append((t, type_name, size))
        return build_layout(sized, model.layers, model.tied_embeddings, active)

    ctx = MixContext(model, n_attn_v=model.layers, n_ffn_down=model.layers)
    block = lambda name: catalog.tensor_type(name).block_size  # noqa: E731
    # gpt-oss is released with MXFP4 experts, and llama.cpp's conversion keeps them so in every file type
    native_mxfp4_experts = model.default_quant == "MXFP4_MOE"
    for t in tensors:
        layer = t.layer or 0
        type_name = tensor_type(ft, t, ctx, i_attn_v=layer, i_ffn_down=layer, block_size=block)
        if native_mxfp4_experts and t.expert:
            type_name = "MXFP4"
        sized.append((t, type_name, tensor_bytes(t.n_elements, type_name, catalog)))
    return build_layout(sized, model.layers, model.tied_embeddings, active)
