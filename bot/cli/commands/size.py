"""`willitrun size`: a model on hardware (memory, offload, speed), from the sizing engine. The console parses its
`size ...` lines with the same arguments (`add_size_arguments`, `size_request`)."""
from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from bot.cli.commands.common import print_error, run_stdin
from bot.core import Core
from bot.errors import validation_message
from bot.format import sizing_text
from bot.sizing.schema import SizingRequest


def add_size_arguments(size: argparse.ArgumentParser) -> None:
    size.add_argument("model", nargs="?", help='model name, e.g. "llama 3.1 8b"')
    size.add_argument("--gguf", help="size a local GGUF file exactly from its tensors")
    size.add_argument("--gpu", help='GPU, Mac or CPU platform, e.g. "rtx 3060", "m2 max", "3090+3060"')
    size.add_argument("--gpus", type=int, help="how many of that GPU")
    size.add_argument("--quant", help="quantization, e.g. Q4_K_M (default), Q8_0, AWQ-4bit")
    size.add_argument("--context", type=int, help="context length in tokens (default 8192)")
    size.add_argument("--kv-cache", help="KV cache type: f16 (default), q8_0, q4_0")
    size.add_argument("--no-flash-attention", action="store_true", help="size with flash attention off")
    size.add_argument("--parallel", type=int, help="sequences served at once")
    size.add_argument("--ram", type=float, help="system RAM in GB")
    size.add_argument("--memory", type=float, help="memory option of a Mac or CPU platform, in GB")
    size.add_argument("--reserved", type=float, help="GPU memory already in use, in GB")
    size.add_argument("--experts-in-ram", action="store_true", default=None, help="MoE: keep routed experts in RAM")
    size.add_argument("--runtime", choices=["llama.cpp", "vllm"])


def size_request(args: argparse.Namespace) -> SizingRequest:
    """The engine's request for parsed `size` arguments (raises pydantic's ValidationError for bad values)."""
    fields = dict(model=args.model, gguf=args.gguf, gpu=args.gpu, gpus=args.gpus, quant=args.quant,
                  context=args.context, kv_cache_type=args.kv_cache, flash_attention=not args.no_flash_attention,
                  parallel=args.parallel, ram_gb=args.ram, memory_gb=args.memory, reserved_gb=args.reserved,
                  experts_in_ram=args.experts_in_ram, runtime=args.runtime)
    return SizingRequest(**{k: v for k, v in fields.items() if v is not None})


def add_parser(sub: argparse._SubParsersAction) -> None:
    size = sub.add_parser("size", help="size a model on hardware (memory, offload, speed)")
    add_size_arguments(size)
    size.add_argument("--json", action="store_true", help="print the SizingReport as JSON")
    size.add_argument("--stdin", action="store_true", help="one JSON request per line in, one JSON line out")
    size.add_argument("--chart", metavar="PNG", help="also draw the memory breakdown (and memory vs context)")
    size.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    if args.stdin:
        return run_stdin(lambda line: core.engine.size(SizingRequest.model_validate_json(line)))
    try:
        request = size_request(args)
    except ValidationError as exc:
        print_error(validation_message(exc.errors()))
        return 2
    report = core.engine.size(request)
    if args.chart:
        from bot.cli.commands.charts import write_chart  # matplotlib loads only when a chart is asked for

        written = write_chart(report, args.chart, core.engine, request if not args.gguf else None)
        print("chart: " + ", ".join(str(p) for p in written), file=sys.stderr)
    print(report.model_dump_json(indent=2) if args.json else sizing_text(report))
    return 0
