"""Quantization labels as they appear in the wild -> a file type the engine sizes, and what was assumed.

Exact names and aliases come from knowledge/catalog/quants.yaml. A label the catalog knows only by its bits per
weight (EXL2/EXL3 '4.65bpw') is sized at exactly those bits. A label with no catalog entry (Unsloth's dynamic
'UD-Q4_K_XL', a 'Q4' with no mix named) is sized as the closest standard type, and the substitution is always
stated: a different file must never be sized silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.catalog.load import Catalog, normalize
from bot.catalog.schema import FileType
from bot.errors import UnknownNameError

_BPW = re.compile(r"^(\d+(?:\.\d+)?)\s?bpw(?:[-_]h\d)?$", re.IGNORECASE)
_BITS = re.compile(r"^(\d+)[-\s]?bits?$", re.IGNORECASE)
_XL = re.compile(r"^(?:ud[-_])?(i?q\d_k)_xl$", re.IGNORECASE)                  # Unsloth: Q4_K_XL, UD-Q4_K_XL
_UD = re.compile(r"^ud[-_](.+)$", re.IGNORECASE)                                # UD-IQ2_XXS, UD-Q2_K
_REPACK = re.compile(r"^(q4_0)_(?:4_4|4_8|8_8)$", re.IGNORECASE)                 # ARM/AVX repacks of Q4_0
# what a bare width means in each format people name next to it ('bnb 4bit', 'MLX 4bit', '8bit')
FORMAT_WIDTHS = {
    ("mlx", 4): "MLX-4bit", ("mlx", 8): "MLX-8bit", ("bnb", 4): "bnb-NF4", ("bnb", 8): "bnb-INT8",
    ("awq", 4): "AWQ-4bit", ("gptq", 4): "GPTQ-4bit", ("int4", 4): "AWQ-4bit",
    (None, 2): "Q2_K", (None, 3): "Q3_K_M", (None, 4): "Q4_K_M", (None, 5): "Q5_K_M", (None, 6): "Q6_K",
    (None, 8): "Q8_0", (None, 16): "F16",
}
FORMAT_WORDS = {"mlx": "mlx", "bnb": "bnb", "nf4": "bnb", "bitsandbytes": "bnb", "awq": "awq", "gptq": "gptq",
                "int4": "int4", "exl2": "exl2", "exl3": "exl2"}
# formats whose release names are enough to size them (the default width of each)
FORMAT_DEFAULT = {"awq": "AWQ-4bit", "gptq": "GPTQ-4bit", "nf4": "bnb-NF4", "fp8": "FP8", "mlx": "MLX-4bit",
                  "int4": "AWQ-4bit", "w4a16": "GPTQ-4bit", "w8a8": "FP8"}
# 4-bit floating point releases (NVFP4, FP4): no runtime here reads them; the closest sized type is stated
FP4 = {"nvfp4", "fp4"}


@dataclass(frozen=True)
class QuantResolution:
    file_type: FileType
    label: str                # what was written
    note: str | None = None   # the substitution or reading, stated in the answer's assumptions


def resolve_quant(labels: list[str] | str, catalog: Catalog) -> QuantResolution:
    """The file type for the quantization labels found in one name ('MLX', '4bit' together mean MLX-4bit)."""
    labels = [labels] if isinstance(labels, str) else list(labels)
    words = [w.lower() for w in labels]
    fmt = next((FORMAT_WORDS[w] for w in words if w in FORMAT_WORDS), None)
    said = " ".join(labels)
    for label in labels:
        found = _one(label, fmt, catalog)
        if found is not None:
            ft, note = found
            return QuantResolution(ft, said, note)
    for w in words:
        if w in FORMAT_DEFAULT:
            ft = catalog.file_type(FORMAT_DEFAULT[w])
            return QuantResolution(ft, said, f"{said}: sized as {ft.name} (the usual width of {w.upper()} "
                                             "releases); the file's own config may differ")
    raise UnknownNameError("quantization", said, _suggest(labels[0], catalog))


def _one(label: str, fmt: str | None, catalog: Catalog) -> tuple[FileType, str | None] | None:
    low = label.lower().strip()
    if low in {"gguf", "ggml", "qat", "exl2", "exl3", "mlx", "bnb", "awq", "gptq", "int4", "int8", "w4a16",
               "w8a8", "nf4", "bitsandbytes"} and low not in {"nf4"}:
        return None                                        # a format word alone: decided by the caller
    try:
        ft = catalog.file_type(label)
        return ft, None
    except UnknownNameError:
        pass
    if m := _BPW.match(low):
        return _exl2(float(m.group(1)), label), None
    if m := _BITS.match(low):
        width = int(m.group(1))
        name = FORMAT_WIDTHS.get((fmt, width)) or FORMAT_WIDTHS.get((None, width))
        if name is None:
            return None
        ft = catalog.file_type(name)
        if fmt is not None and (fmt, width) in FORMAT_WIDTHS:
            exact = normalize(f"{fmt}{width}bit") in {normalize(a) for a in (ft.name, *ft.aliases)}
            return ft, None if exact else f"{fmt.upper()} {width}-bit sized as {ft.name}, the usual {width}-bit type"
        return ft, f"'{label}' names no file type: sized as {ft.name}, the usual {width}-bit GGUF"
    if m := _REPACK.match(low):
        ft = catalog.file_type("Q4_0")
        return ft, f"{label.upper()} is Q4_0 repacked for ARM/AVX CPUs: the same bytes, sized as Q4_0"
    if m := _XL.match(low):
        ft = catalog.file_type(f"{m.group(1).upper()}_M")
        return ft, (f"{label} (Unsloth dynamic) has no fixed recipe: sized as {ft.name}, the closest standard "
                    "type; Unsloth keeps some tensors at higher precision, so the file is usually a few % larger")
    if m := _UD.match(low):
        inner = _one(m.group(1), fmt, catalog)
        if inner is not None:
            ft = inner[0]
            return ft, (f"{label} (Unsloth dynamic): sized as {ft.name}; Unsloth keeps some layers at higher "
                        "precision, so the file is usually a few % larger")
    if low in FP4:
        ft = catalog.file_type("MXFP4_MOE")
        return ft, (f"{label.upper()} (4-bit floating point) is sized as {ft.name}, the closest type here "
                    "(about 4.25-4.5 bits per weight); runtimes that read NVFP4 are not modelled")
    if low == "int8":
        ft = catalog.file_type("bnb-INT8" if fmt == "bnb" else "Q8_0")
        return ft, f"'{label}' sized as {ft.name}, the closest 8-bit type"
    return None


def _exl2(bpw: float, label: str) -> FileType:
    """EXL2/EXL3 at the average bits per weight the name states (their quantizer targets exactly that)."""
    if not 1.0 <= bpw <= 16.0:
        raise UnknownNameError("quantization", label, ["EXL2-4.0bpw", "EXL2-5.0bpw", "EXL2-6.0bpw"])
    return FileType(name=f"EXL2-{bpw:g}bpw", aliases=[label], format="exl2", linear_bpw=bpw,
                    quality_rank=min(int(40 + bpw * 6), 95),
                    note="EXL2/EXL3 target an average bits per weight over the linear layers",
                    sources=["https://github.com/turboderp-org/exllamav2"])


def _suggest(label: str, catalog: Catalog) -> list[str]:
    try:
        catalog.file_type(label)
    except UnknownNameError as exc:
        return exc.suggestions
    return []


def quant_key(label: str) -> str:
    return normalize(label)
