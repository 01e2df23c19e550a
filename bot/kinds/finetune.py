"""finetune: peak memory per GPU of full, LoRA or QLoRA fine-tuning of a model (bot.calc.finetune), with the verdict
on the card the message names. What the message leaves out takes the calculator's defaults, stated."""
from __future__ import annotations

import time

from bot.answer.schema import Answer
from bot.calc.finetune import FinetuneRequest, estimate
from bot.calc.schema import FinetuneResult
from bot.core import Core
from bot.format import finetune_text
from bot.kinds.calculators import calculated, clarify, fields_of, hardware_of
from bot.routing.schema import CalcFields, Route, SizingFields, missing_model_message

DEFAULT_METHOD = "qlora"        # what Unsloth's notebooks and most single-GPU guides run
DEFAULT_SEQ_LEN = 2048
DEFAULT_RANK = 16
# full fine-tuning over several GPUs is done sharded (DeepSpeed ZeRO-3 / FSDP FULL_SHARD); unsharded, each GPU would
# hold every state and more GPUs would not help
MULTI_GPU_ZERO_STAGE = 3


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    fields, calc = fields_of(intent)
    if fields.model is None:
        return clarify(intent, missing_model_message(fields), "finetune")
    return calculated(intent, "finetune", start, lambda: finetune(core, fields, calc), finetune_text, fields)


def finetune(core: Core, fields: SizingFields, calc: CalcFields) -> FinetuneResult:
    gpu, gpus, notes = hardware_of(core, fields)
    method = calc.method or DEFAULT_METHOD
    seq_len = calc.seq_len or fields.context or DEFAULT_SEQ_LEN
    zero = MULTI_GPU_ZERO_STAGE if method == "full" and gpus > 1 else 0
    result = estimate(FinetuneRequest(model=fields.model.id, method=method, seq_len=seq_len,
                                      batch_size=calc.batch or 1, lora_rank=calc.rank or DEFAULT_RANK, gpus=gpus,
                                      zero_stage=zero, gpu=gpu), core.catalog)
    said = [f"method {DEFAULT_METHOD.upper()}" if calc.method is None else None,
            f"sequence length {DEFAULT_SEQ_LEN:,}" if calc.seq_len is None and fields.context is None else None,
            "micro-batch 1" if calc.batch is None else None,
            f"LoRA rank {DEFAULT_RANK}" if calc.rank is None and method != "full" else None]
    defaults = [s for s in said if s]
    if defaults:
        notes.append("Not stated, so assumed: " + ", ".join(defaults) + ".")
    if zero:
        notes.append(f"Full fine-tuning over {gpus} GPUs sharded with ZeRO-3 / FSDP (each GPU holds 1/{gpus} of the "
                     "weights, gradients and optimizer states).")
    if fields.model.note:
        notes.append(fields.model.note)
    result.assumptions[:0] = notes
    return result
