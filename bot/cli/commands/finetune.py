"""`willitrun finetune MODEL`: peak GPU memory of full, LoRA or QLoRA fine-tuning, and what fits a card."""
from __future__ import annotations

import argparse

from bot.calc.finetune import ALL_TARGETS, RECIPES, FinetuneRequest, estimate, targets_of
from bot.core import Core
from bot.sizing.devices import gb


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("finetune", help="fine-tuning memory per GPU (full, LoRA, QLoRA)")
    p.add_argument("model", help='model name, e.g. "llama 3.1 8b"')
    p.add_argument("--method", choices=["full", "lora", "qlora"], default="qlora")
    p.add_argument("--seq-len", type=int, default=2048)
    p.add_argument("--batch", type=int, default=1, help="micro-batch size")
    p.add_argument("--rank", type=int, default=16, help="LoRA rank")
    p.add_argument("--targets", default=",".join(ALL_TARGETS), help="LoRA targets, e.g. q,k,v,o,gate,up,down")
    p.add_argument("--optimizer", choices=["adamw", "adamw8bit", "paged_adamw8bit", "sgd"])
    p.add_argument("--no-gradient-checkpointing", action="store_true")
    p.add_argument("--gpu", help="card to check the fit on")
    p.add_argument("--gpus", type=int, default=1)
    p.add_argument("--zero", type=int, default=0, help="ZeRO/FSDP stage for full fine-tuning (0-3)")
    p.add_argument("--frozen-layers", type=int, default=0)
    p.add_argument("--recipe", choices=list(RECIPES), default="hf",
                   help="hf: Transformers Trainer/TRL with bf16 autocast; bf16-true: LitGPT's pure bf16")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run, uses_core=True)


def run(args: argparse.Namespace, core: Core) -> int:
    req = FinetuneRequest(model=args.model, method=args.method, seq_len=args.seq_len, batch_size=args.batch,
                          gradient_checkpointing=not args.no_gradient_checkpointing, lora_rank=args.rank,
                          lora_targets=targets_of(args.targets),
                          optimizer=args.optimizer, gpus=args.gpus, zero_stage=args.zero,
                          frozen_layers=args.frozen_layers, gpu=args.gpu, recipe=args.recipe)
    r = estimate(req, core.catalog)
    if args.json:
        print(r.model_dump_json(indent=2))
        return 0
    print(f"{r.model} · {r.method} · {r.seq_len:,} tokens x {r.batch_size} · {r.optimizer}")
    print(f"Peak per GPU: {gb(r.peak_bytes.low)} - {gb(r.peak_bytes.high)}")
    for name, part in r.parts:
        print(f"  {name:<12}{gb(part.low):>10} - {gb(part.high)}")
    if r.hardware:
        print(f"On {r.hardware}: {r.verdict.replace('_', ' ')}; largest sequence {r.max_seq_len or 0:,} at batch "
              f"{r.batch_size}, largest batch {r.max_batch_size or 0} at {r.seq_len:,} tokens")
    for note in r.assumptions:
        print(f"- {note}")
    return 0
