"""image: peak GPU memory of an image or video model at a precision and resolution under each offload mode
(bot.calc.image), with the verdict on the card named and which precision and offload to pick there.

The image model is read here from the message, by the image catalog's names (the router knows language models
only), and kept in the answer's fields so that a follow-up ("what about 1024x1024?") keeps it.
"""
from __future__ import annotations

import re
import time

from bot.answer.schema import Answer
from bot.calc.image import BYTES_PER_PARAM, ImageModels, ImageRequest, estimate
from bot.calc.schema import ImageModel, ImageResult
from bot.core import Core
from bot.format import image_text
from bot.kinds.calculators import calculated, clarify, fields_of, hardware_of
from bot.routing.extract import Tokens
from bot.routing.schema import CalcFields, Route, SizingFields

MAX_NAME_TOKENS = 5
DEFAULT_PRECISION = "bf16"
VIDEO_FPS = 16                   # Wan 2.x generates at 16 frames per second (81 frames = 5 s)
# how people write a GGUF or bit width for an image model -> the calculator's precision names
PRECISIONS = {"q8": "q8_0", "q6": "q6_k", "q5": "q5_k", "q4": "q4_k", "q3": "q3_k", "q2": "q2_k", "int4": "nf4",
              "f16": "fp16", "safetensors-bf16": "bf16", "bnb-nf4": "nf4", "bnb-int8": "int8"}
# words that name a variant rather than a model ("wan2.1 i2v 14b" is the 14B)
_VARIANT_WORDS = {"i2v", "t2v", "base", "model", "video", "image", "gguf", "fp8", "fp16", "bf16", "nf4"}


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    fields, calc = fields_of(intent)
    models = core.image_models
    model = image_model_named(intent.text, models) or (models.find(calc.image_model) if calc.image_model else None)
    if model is None:
        known = ", ".join(m.name for m in models.catalog.models)
        return clarify(intent, f"Which image or video model? I can size {known}.", "image")
    calc = calc.model_copy(update={"image_model": model.id})
    fields = fields.model_copy(update={"calc": calc, "kind": "image"})
    return calculated(intent, "image", start, lambda: image(core, fields, calc), image_text, fields)


def image(core: Core, fields: SizingFields, calc: CalcFields) -> ImageResult:
    gpu, _, notes = hardware_of(core, fields)
    said = calc.precision or fields.quant
    precision = precision_of(said)
    if said and precision is None:
        notes.append(f"{said} is no precision I size image models at: {DEFAULT_PRECISION} assumed.")
    model = core.image_models.find(calc.image_model)
    frames = calc.frames
    if frames is None and calc.seconds and model.kind == "video":
        frames = round(calc.seconds * VIDEO_FPS) + 1
        notes.append(f"{calc.seconds:g} s at {VIDEO_FPS} frames per second (Wan's rate): {frames} frames.")
    result = estimate(ImageRequest(model=model.id, precision=precision or DEFAULT_PRECISION, width=calc.width,
                                   height=calc.height, frames=frames if model.kind == "video" else None, gpu=gpu),
                      core.image_models, core.catalog)
    result.assumptions[:0] = notes
    return result


def precision_of(said: str | None) -> str | None:
    """The calculator's name for a precision or a quantization file type ('Q4_K_M' -> q4_k, 'F16' -> fp16), or
    None."""
    if said is None:
        return None
    word = said.lower()
    if word in BYTES_PER_PARAM or word in PRECISIONS:
        return PRECISIONS.get(word, word)
    word = re.sub(r"_[ml]$|_s$", "", word)          # q4_k_m, q5_k_s: the K-quant at that width
    return word if word in BYTES_PER_PARAM else PRECISIONS.get(word[:2] if word.startswith("q") else word)


def image_model_named(text: str, models: ImageModels) -> ImageModel | None:
    """The image catalog model whose id, name or alias the text names, the longest name first ('flux dev' before
    'flux'), with or without the words naming a variant ('wan2.1 i2v 14b')."""
    tokens = Tokens.of(text)
    skipped = [k for k, w in zip(tokens.keys, tokens.words, strict=True) if w not in _VARIANT_WORDS]
    best: tuple[int, ImageModel] | None = None
    # with the variant words and without them: some names hold one ("hunyuan video", "ltx video", "qwen image")
    for keys in (tokens.keys, skipped):
        for i in range(len(keys)):
            for j in range(i + 1, min(len(keys), i + MAX_NAME_TOKENS) + 1):
                model = models.by_key.get("".join(keys[i:j]))
                if model is not None and (best is None or j - i > best[0]):
                    best = (j - i, model)
    return best[1] if best else None
