"""Image and video model memory: weights per component at a precision, activations for a resolution (and frames),
under each offload mode, with the system RAM that offloading needs (../shared/reference/calculators.md §4).

- Bytes per parameter (calculators.md §4.2): GGUF types from llama.cpp gguf-py/gguf/constants.py
  `GGML_QUANT_SIZES` (sizing.md §1.1), NF4 4.5 bits (one fp32 absmax per 64) [qlora], fp8 1 byte, 16-bit 2.
- Offload modes (huggingface/diffusers docs/source/en/optimization/memory.md @02e9b6a472e5b0ddfec1e78eb7cddc27410003b3):
  none = every component on the GPU; model = `enable_model_cpu_offload`, one whole component at a time, so
  max_c(weights_c + activations_c); sequential = `enable_sequential_cpu_offload`, one submodule at a time
  (largest block + activations); ComfyUI low-VRAM loads as many weights as fit, so it lies between the two.
- Tokens (calculators.md §4.4): latent = pixels / vae_scale per side, tokens = latent / patch per side, video
  latent frames = 1 + (F - 1) / temporal_scale; classifier-free guidance batched in the SD pipelines doubles them.
- Denoiser activations: low, derived (fused attention keeps no N x N matrix [flash]): 10 hidden-size 16-bit tensors
  per token live at the peak (qkv 3, attention output 1, 4x MLP up and activated 8, residual and norm 2, shared
  over the block); high, the larger of 20 such tensors (adding the single-stream concat of attention and MLP (5) and
  the fp32 rotary-embedding temporaries of q and k) and ComfyUI's working-memory estimate where it has one for the
  model: latent area x batch x dtype size x 0.01 x `memory_usage_factor` MiB (ComfyUI comfy/model_base.py
  BaseModel.memory_required; the factors per model in comfy/supported_models.py).
- VAE decode, per VAE family in the catalog: bytes per output pixel per element byte, low and high from the live
  maps (derived, allocated) and InvokeAI's and ComfyUI's measured constants, which include the caching
  allocator's reserve (invokeai/backend/util/vae_working_memory.py; ComfyUI comfy/sd.py VAE memory_used_decode);
  a video VAE holds `frames_at_once` frames per pass and the decoded clip twice (frames and their torch.cat copy).
- Low and high also differ in how the phases add up: the allocated peak is the larger of the denoising and the
  decoding phase; the caching allocator's reserved peak keeps the denoiser's freed blocks when the decoder asks for
  larger ones (torch-cuda memory-management notes: freed blocks stay reserved and are reused only for requests
  they fit), so the high side adds both. Measurements taken with torch.cuda.max_memory_reserved() sit near it.
  Model offload empties the cache between components (accelerate CpuOffload.pre_forward calls
  clear_device_cache()), so there the phases do not add.
- Quantized denoisers run each linear layer from a 16-bit copy of its weight made on the fly (diffusers
  quantizers/gguf/utils.py GGUFLinear.forward_native dequantizes then calls F.linear; bitsandbytes matmul_4bit
  dequantizes the whole weight for inputs of more than one token; diffusers hooks/layerwise_casting.py casts the
  module to the compute dtype before its forward), so the largest layer's 16-bit weight joins the activations.
- What a quantizer leaves unquantized: bitsandbytes keeps transformers' `_keep_in_fp32_modules` in fp32 (T5's
  FFN output "wo", huggingface/transformers models/t5/modeling_t5.py), and diffusers' FP8 layerwise casting skips
  modules matching `_skip_layerwise_casting_patterns` (["pos_embed", "norm"] for FluxTransformer2DModel, which
  matches the AdaLayerNorm modulation linears; diffusers models/transformers/transformer_flux.py), left 16-bit.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.calc.schema import FitVerdict, ImageCatalog, ImageModel, ImageOption, ImageResult, Range, VaeFamily
from bot.catalog.load import Catalog, build_name_index, normalize
from bot.errors import InvalidRequestError
from bot.sizing.devices import GIB

BYTES_PER_PARAM = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "nf4": 0.5625,
    "q8_0": 34 / 32, "q6_k": 210 / 256, "q5_k": 176 / 256, "q5_0": 22 / 32, "q4_1": 20 / 32, "q4_k": 144 / 256,
    "q4_0": 18 / 32, "q3_k": 110 / 256, "q2_k": 84 / 256,
}
# from most to least faithful: the order the recommendation walks
PRECISION_LADDER = ("bf16", "fp8", "q8_0", "q6_k", "q5_k", "nf4", "q4_k", "q4_0", "q3_k", "q2_k")
OFFLOAD_MODES = ("none", "model", "comfyui-lowvram", "sequential")
DENOISER_LIVE_TENSORS = (10, 20)
VAE_ELEMENT_BYTES = 2              # VAEs decode in 16 bits
COMFYUI_MIB_PER_AREA_BYTE = 0.01   # ComfyUI BaseModel.memory_required: area x dtype size x 0.01 x factor MiB
SIXTEEN_BIT = ("bf16", "fp16", "fp32")   # precisions a denoiser runs without dequantizing
QUANTIZED_TE = ("nf4", "int8")     # bitsandbytes precisions: T5's "wo" stays fp32
# encoders this small stay 16-bit when the text encoder is quantized (huggingface/diffusers
# docs/source/en/quantization/bitsandbytes.md: CLIPTextModel and AutoencoderKL "are already small")
SMALL_ENCODER_B = 1.0
CONTEXT_BYTES = round(0.5 * GIB)   # CUDA context: Ollama's 457 MiB per GPU (ollama ml/device.go MinimumMemory), rounded
TIGHT_MARGIN = 0.95


@dataclass(frozen=True)
class ImageRequest:
    model: str
    precision: str = "bf16"                   # of the denoiser
    text_encoder_precision: str | None = None # default: the denoiser's, but never below 8 bits for GGUF
    offload: str = "none"
    resolution: int | None = None             # an image's square side; a video's height (720: 1280x720)
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    gpu: str | None = None


class ImageModels:
    """The image catalog with names as people type them."""

    def __init__(self, catalog: ImageCatalog):
        self.catalog = catalog
        self._index = build_name_index(catalog.models, lambda m: m.id, lambda m: [m.id, m.name, *m.aliases])
        # every id, name and alias as one normalized key, for finding a name inside a question
        self.by_key = {normalize(n): m for m in catalog.models for n in (m.id, m.name, *m.aliases)}

    def find(self, name: str) -> ImageModel:
        return self._index.find("image or video model", name)


def _bytes(precision: str) -> float:
    try:
        return BYTES_PER_PARAM[precision.lower()]
    except KeyError:
        known = ", ".join(BYTES_PER_PARAM)
        raise InvalidRequestError(f"Unknown precision '{precision}'; use one of {known}.") from None


def _component_bytes(c, p: str) -> float:
    size = c.params_b * 1e9 * _bytes(p)
    if c.role == "text_encoder" and p in QUANTIZED_TE and c.fp32_keep_b:
        size += c.fp32_keep_b * 1e9 * (4 - _bytes(p))           # `_keep_in_fp32_modules` under bitsandbytes
    if c.role == "denoiser" and p == "fp8" and c.fp8_skip_b:
        size += c.fp8_skip_b * 1e9 * (2 - _bytes(p))            # layerwise casting skips the "norm" modules
    return size


def _weights(m: ImageModel, precision: str, te_precision: str | None) -> dict[str, tuple[float, float]]:
    """Bytes and largest-submodule bytes per component."""
    same = ("bf16", "fp16", "fp8", "nf4", "int8")
    te = te_precision or (precision if precision in same else "bf16")
    out = {}
    for c in m.components:
        p = precision if c.role == "denoiser" else te if c.role == "text_encoder" else "bf16"
        if c.role == "text_encoder" and c.params_b < SMALL_ENCODER_B:
            p = "bf16"       # "CLIPTextModel and AutoencoderKL aren't quantized because they're already small"
        size = _component_bytes(c, p)
        out[c.name] = (size, size / c.blocks)
    return out


def _activations(m: ImageModel, width: int, height: int, frames: int) -> Range:
    lat_w, lat_h = width // m.vae_scale, height // m.vae_scale
    latent_frames = 1 + (frames - 1) // m.temporal_scale if m.kind == "video" else 1
    # an editing model's reference image is encoded and packed into the same sequence as the latents
    # (diffusers FluxKontextPipeline: torch.cat([latents, image_latents], dim=1))
    images = 1 + m.reference_images
    tokens = (lat_w // m.patch) * (lat_h // m.patch) * latent_frames * images + m.text_tokens
    low, high = (tokens * m.cfg_batch * m.hidden * 2 * n for n in DENOISER_LIVE_TENSORS)
    if m.comfyui_memory_usage_factor:
        area = m.cfg_batch * latent_frames * lat_w * lat_h * images
        comfy = area * 2 * COMFYUI_MIB_PER_AREA_BYTE * m.comfyui_memory_usage_factor * 2**20
        high = max(high, comfy)
    return Range(low=low, high=high)


def _with_dequantized_layer(act: Range, m: ImageModel, precision: str) -> Range:
    """Activations plus the 16-bit copy of the largest layer a quantized denoiser makes while it runs."""
    if precision in SIXTEEN_BIT:
        return act
    layer = max((c.largest_linear_b for c in m.components if c.role == "denoiser"), default=0) * 1e9 * 2
    return Range(low=act.low + layer, high=act.high + layer)


def _vae_decode(m: ImageModel, vae: VaeFamily, width: int, height: int, frames: int) -> Range:
    at_once = min(frames, vae.frames_at_once) if m.kind == "video" else 1
    work = [bpp * width * height * at_once * VAE_ELEMENT_BYTES for bpp in vae.bytes_per_pixel]
    clip = 2 * 3 * width * height * frames * VAE_ELEMENT_BYTES if m.kind == "video" else 0
    return Range(low=work[0] + clip, high=work[1] + clip)


def _peak(m: ImageModel, weights: dict[str, tuple[float, float]], act: Range, vae: Range, offload: str) -> Range:
    role = {c.name: c.role for c in m.components}

    def phase(name: str, side: str, cache_emptied: bool) -> float:
        a, v = getattr(act, side), getattr(vae, side)
        if role[name] == "denoiser":
            return a
        if role[name] == "vae":          # high: the denoiser's cached blocks are still reserved, unless emptied
            return v + (a if side == "high" and not cache_emptied else 0)
        return 0

    if offload == "none":
        total = sum(w for w, _ in weights.values())
        return Range(low=total + max(act.low, vae.low) + CONTEXT_BYTES,
                     high=total + act.high + vae.high + CONTEXT_BYTES)
    # model offload empties the cache as it swaps components (accelerate CpuOffload.pre_forward); block-by-block
    # offload swaps weights only
    model_off = Range(low=max(w + phase(n, "low", True) for n, (w, _) in weights.items()) + CONTEXT_BYTES,
                      high=max(w + phase(n, "high", True) for n, (w, _) in weights.items()) + CONTEXT_BYTES)
    seq = Range(low=max(b + phase(n, "low", False) for n, (_, b) in weights.items()) + CONTEXT_BYTES,
                high=max(b + phase(n, "high", False) for n, (_, b) in weights.items()) + CONTEXT_BYTES)
    if offload == "model":
        return model_off
    if offload == "sequential":
        return seq
    if offload == "comfyui-lowvram":
        return Range(low=seq.low, high=model_off.high)
    raise InvalidRequestError(f"offload must be one of {', '.join(OFFLOAD_MODES)}.")


def video_width(height: int) -> int:
    """The width of a 16:9 video frame of `height` lines on the 32-pixel grid the video models use (480p is 832x480
    and 720p 1280x720 in the Wan 2.1 and HunyuanVideo READMEs)."""
    return height * 16 // 9 // 32 * 32


def _decode_words(m: ImageModel, vae: VaeFamily, frames: int) -> str:
    if m.kind != "video":
        return ""
    if vae.frames_at_once >= frames:
        return ", decoding the whole clip in one pass"
    return f", decoding {vae.frames_at_once} frame{'s' if vae.frames_at_once > 1 else ''} per pass"


def _default_width(m: ImageModel, side: int) -> int:
    """A video's resolution names its height at 16:9; an image's names a square."""
    return video_width(side) if m.kind == "video" else side


def _verdict(peak: Range, capacity: int | None) -> FitVerdict:
    if capacity is None:
        return "no_gpu_given"
    if peak.high <= capacity * TIGHT_MARGIN:
        return "fits"
    return "tight" if peak.low <= capacity else "does_not_fit"


def estimate(req: ImageRequest, models: ImageModels, catalog: Catalog) -> ImageResult:
    m = models.find(req.model)
    height = req.height or req.resolution or m.default_resolution
    width = req.width or _default_width(m, height)
    frames = req.frames or m.default_frames
    if not (64 <= width <= 8192 and 64 <= height <= 8192):
        raise InvalidRequestError("resolution must be between 64 and 8192 pixels per side.")
    if not 1 <= frames <= 2048:
        raise InvalidRequestError("frames must be between 1 and 2048.")
    if req.offload not in OFFLOAD_MODES:
        raise InvalidRequestError(f"offload must be one of {', '.join(OFFLOAD_MODES)}.")
    capacity = hardware = None
    if req.gpu:
        hw = catalog.gpu(req.gpu)
        capacity, hardware = round(hw.memory_gb * GIB), hw.name
    act = _activations(m, width, height, frames)
    family = models.catalog.vae(m.vae_family)
    vae = _vae_decode(m, family, width, height, frames)
    options = []
    for precision in PRECISION_LADDER:
        w = _weights(m, precision, req.text_encoder_precision)
        running = _with_dequantized_layer(act, m, precision)
        for offload in OFFLOAD_MODES:
            peak = _peak(m, w, running, vae, offload)
            ram = 0 if offload == "none" else round(sum(x for x, _ in w.values()))
            options.append(ImageOption(precision=precision, offload=offload, peak_bytes=peak, ram_bytes=ram,
                                       verdict=_verdict(peak, capacity)))
    weights = _weights(m, req.precision, req.text_encoder_precision)
    peak = _peak(m, weights, _with_dequantized_layer(act, m, req.precision), vae, req.offload)
    # most faithful precision that runs without slow offloading first; block-by-block offload only as a last resort
    rank = lambda o: (o.offload not in ("none", "model"), PRECISION_LADDER.index(o.precision),  # noqa: E731
                      OFFLOAD_MODES.index(o.offload))
    pick = next((o for o in sorted(options, key=rank) if o.verdict == "fits"), None) if capacity else None
    notes = [
        f"{width}x{height}" + (f", {frames} frames" if m.kind == "video" else "") + f": denoiser activations "
        f"{act.low / GIB:.2f}-{act.high / GIB:.2f} GiB, VAE decode {vae.low / GIB:.2f}-{vae.high / GIB:.2f} GiB "
        "(fused attention; the VAE's working memory from InvokeAI's and ComfyUI's measured per-pixel figures"
        + _decode_words(m, family, frames) + "). Low: the "
        "larger phase (allocated memory); high: both, as PyTorch's caching allocator keeps them reserved. A CUDA "
        "context of 0.5 GiB is included.",
        "Quantized files keep some tensors (norms, embeddings) at higher precision: weights may be a little larger; "
        "a quantized denoiser also makes a 16-bit copy of each layer as it runs.",
        "Offload modes: model = one component at a time (diffusers enable_model_cpu_offload); sequential = one block "
        "at a time (very slow); ComfyUI low-VRAM lies between them.",
    ]
    if m.kind == "video":
        notes.append("The VAE decode is counted untiled; tiled decoding (diffusers vae.enable_tiling(), ComfyUI's "
                     "VAE Decode (Tiled)) cuts it to a fraction at some cost in time.")
    return ImageResult(
        model=m.name, kind=m.kind, precision=req.precision, offload=req.offload, resolution=max(width, height),
        width=width, height=height,
        frames=frames, peak_bytes=peak,
        ram_bytes=0 if req.offload == "none" else round(sum(x for x, _ in weights.values())),
        parts={k: round(v) for k, (v, _) in weights.items()} | {"denoiser_activations": round(act.high),
                                                                "vae_decode": round(vae.high)},
        hardware=hardware, hardware_bytes=capacity, verdict=_verdict(peak, capacity), options=options,
        recommendation=(f"{pick.precision} with offload {pick.offload}" if pick else None), assumptions=notes)
