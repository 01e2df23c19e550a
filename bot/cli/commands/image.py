"""`willitrun image MODEL`: peak VRAM of an image or video model per precision and offload mode."""
from __future__ import annotations

import argparse

from bot.calc.image import OFFLOAD_MODES, ImageRequest, estimate
from bot.core import Core
from bot.sizing.devices import gb


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("image", help="image/video model memory per precision and offload mode")
    p.add_argument("model", help='e.g. "flux dev", "sdxl", "wan 2.1 14b"')
    p.add_argument("--precision", default="bf16", help="bf16, fp8, nf4, q8_0, q5_k, q4_k ...")
    p.add_argument("--text-encoder-precision")
    p.add_argument("--offload", choices=OFFLOAD_MODES, default="none")
    p.add_argument("--resolution", type=int, help="an image's square side; a video's height at 16:9 (720: 1280x720)")
    p.add_argument("--width", type=int)
    p.add_argument("--height", type=int)
    p.add_argument("--frames", type=int)
    p.add_argument("--gpu")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    models = core.image_models
    r = estimate(ImageRequest(model=args.model, precision=args.precision,
                              text_encoder_precision=args.text_encoder_precision,
                              offload=args.offload, resolution=args.resolution, width=args.width, height=args.height,
                              frames=args.frames, gpu=args.gpu), models, core.catalog)
    if args.json:
        print(r.model_dump_json(indent=2))
        return 0
    print(f"{r.model} · {r.precision} · offload {r.offload} · {r.width}x{r.height}"
          + (f" · {r.frames} frames" if r.kind == "video" else ""))
    print(f"Peak GPU memory {gb(r.peak_bytes.low)} - {gb(r.peak_bytes.high)}; system RAM for offloaded weights "
          f"{gb(r.ram_bytes)}" + (f"; on {r.hardware}: {r.verdict.replace('_', ' ')}" if r.hardware else ""))
    if r.recommendation:
        print(f"Pick: {r.recommendation}")
    for note in r.assumptions:
        print(f"- {note}")
    return 0
