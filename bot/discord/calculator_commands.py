"""The slash commands of the computed kinds beyond sizing: /finetune, /serve, /image, /cost and /whatcanirun.

Each builds the intent the router would build from a question and hands it to the kind's own module (bot.kinds),
so a command and a question with the same facts get the same answer, and a reply to either ("what about at 8k?")
is a follow-up of the same kind. The modules answer in milliseconds: no defer unless the CPU is busy.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal, Optional

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer.schema import Answer
from bot.catalog.schema import Model
from bot.discord.asking import (
    CHART_SECONDS,
    DEFERRED_CHART_SECONDS,
    page_url,
    posts_for,
    record_of,
    remember,
)
from bot.discord.commands import result_or_defer, send, time_left
from bot.discord.limits import AUTOCOMPLETE_CHOICES
from bot.discord.render import text_posts
from bot.discord.transformers import HardwareTransformer, ModelTransformer, QuantTransformer, best_choices
from bot.discord.views import answer_view
from bot.kinds import KINDS
from bot.routing.schema import CalcFields, GpuRef, ModelRef, Route, SizingFields
from bot.sizing.schema import MAX_CONTEXT, MAX_GPUS

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot

Uses = Literal["any", "coding", "chat", "reasoning", "vision", "roleplay"]


def _bot(interaction: discord.Interaction) -> WillItRunBot:
    return interaction.client  # type: ignore[return-value]


class ImageModelTransformer(app_commands.Transformer):
    """An image or video model of the image catalog, by id, name or alias (typos get suggestions)."""

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        return _bot(interaction).core.image_models.find(value).id

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        models = _bot(interaction).core.image_models.catalog.models
        return best_choices(value, [(m.name, m.id) for m in models])[:AUTOCOMPLETE_CHOICES]


class SetupTransformer(app_commands.Transformer):
    """Hardware as people type it ("2x 3090", "m2 max 64gb", "8gb vram", "cpu only 64gb ram"), read by the router's
    own extractor; autocompletes catalog names."""

    async def transform(self, interaction: discord.Interaction, value: str) -> SizingFields:
        core = _bot(interaction).core
        fields = core.router.extractor.extract(value).fields
        if fields.gpu is None and fields.ram_gb is None and not fields.cpu_only:
            # a catalog id picked from the autocomplete; an unknown name raises with the closest names
            fields = fields.model_copy(update={"gpu": GpuRef(id=core.catalog.gpu(value).id, memory_gb=None)})
        return fields

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        picked = _bot(interaction).core.resolver.complete_hardware(value, AUTOCOMPLETE_CHOICES)
        return [app_commands.Choice(name=label[:100], value=v[:100]) for label, v in picked]


def _model_ref(model: Model) -> ModelRef:
    return ModelRef(id=model.id, params_b=model.params_b)


def _gpu(gpu: str | None) -> GpuRef | None:
    return GpuRef(id=gpu, memory_gb=None) if gpu else None


class CalculatorCommands(commands.Cog):
    def __init__(self, bot: WillItRunBot):
        self.bot = bot

    async def answer_kind(self, interaction: discord.Interaction, kind: str, fields: SizingFields, question: str,
                          use: str | None = None) -> None:
        """The kind's answer to `fields`, posted, with its record kept for replies and buttons."""
        fields = fields.model_copy(update={"kind": kind, "use": use})
        intent = Route(route="sizing", confidence=1.0, sizing=fields, reason=f"/{kind.replace('_', '')}",
                       intent=kind, use=use, text="")
        answer: Answer = await result_or_defer(interaction, asyncio.to_thread(KINDS[kind], intent, self.bot.core))
        # with its chart where the kind has one (what can I run: memory and speed of each option)
        budget = DEFERRED_CHART_SECONDS if interaction.response.is_done() else min(CHART_SECONDS,
                                                                                  time_left(interaction))
        posts = await posts_for(self.bot, answer, budget) or text_posts("I have nothing to add to that.")
        view = answer_view(answer.kind, None, None, [], page_url=page_url(self.bot, answer))
        ids = await send(interaction, posts, view=view)
        await remember(self.bot, ids, record_of(question, answer, self.bot.core.catalog))

    @app_commands.command(name="finetune", description="Fine-tuning memory per GPU (full, LoRA, QLoRA) and whether "
                                                        "it fits your card.")
    @app_commands.describe(model="the model, e.g. llama 3.1 8b", method="qlora (default), lora or full",
                           seq_len="sequence length in tokens (default 2048)", batch="micro-batch size (default 1)",
                           rank="LoRA rank (default 16)", gpu="the card to check the fit on", gpus="how many cards")
    async def finetune(self, interaction: discord.Interaction,
                       model: app_commands.Transform[Model, ModelTransformer],
                       method: Optional[Literal["qlora", "lora", "full"]] = None,
                       seq_len: Optional[app_commands.Range[int, 16, 1_048_576]] = None,
                       batch: Optional[app_commands.Range[int, 1, 4096]] = None,
                       rank: Optional[app_commands.Range[int, 1, 4096]] = None,
                       gpu: Optional[app_commands.Transform[str, HardwareTransformer]] = None,
                       gpus: app_commands.Range[int, 1, MAX_GPUS] = 1) -> None:
        fields = SizingFields(model=_model_ref(model), gpu=_gpu(gpu), gpus=gpus,
                              calc=CalcFields(method=method, seq_len=seq_len, batch=batch, rank=rank))
        await self.answer_kind(interaction, "finetune", fields, f"/finetune {model.id}" + (f" on {gpu}" if gpu else ""))

    @app_commands.command(name="serve", description="Serving capacity: KV-cache tokens, concurrent sequences, "
                                                     "throughput (vLLM, llama-server, Ollama).")
    @app_commands.describe(model="the model", gpu="the GPU", gpus="how many (tensor parallel for vLLM)",
                           runtime="vllm (default on GPUs), llama-server or ollama",
                           context="tokens per request (default 8192)", quant="quantization (vLLM: FP8, AWQ...)",
                           parallel="llama-server -np / OLLAMA_NUM_PARALLEL (default: the most that fit)")
    async def serve(self, interaction: discord.Interaction,
                    model: app_commands.Transform[Model, ModelTransformer],
                    gpu: app_commands.Transform[str, HardwareTransformer],
                    gpus: app_commands.Range[int, 1, 16] = 1,
                    runtime: Optional[Literal["vllm", "llama-server", "ollama"]] = None,
                    context: Optional[app_commands.Range[int, 256, MAX_CONTEXT]] = None,
                    quant: Optional[app_commands.Transform[str, QuantTransformer]] = None,
                    parallel: Optional[app_commands.Range[int, 1, 256]] = None) -> None:
        fields = SizingFields(model=_model_ref(model), gpu=_gpu(gpu), gpus=gpus, context=context, quant=quant,
                              calc=CalcFields(runtime=runtime, parallel=parallel))
        await self.answer_kind(interaction, "serve", fields, f"/serve {model.id} on {gpus}x {gpu}")

    @app_commands.command(name="image", description="Image and video model memory per precision and offload mode.")
    @app_commands.describe(model="e.g. flux dev, sdxl, wan 2.1 14b", precision="weights precision (default bf16)",
                           resolution="an image's square side, a video's height (720 = 1280x720); default: the model's",
                           frames="video frames", gpu="the card to check the fit on")
    async def image(self, interaction: discord.Interaction,
                    model: app_commands.Transform[str, ImageModelTransformer],
                    precision: Optional[Literal["bf16", "fp16", "fp8", "q8_0", "q6_k", "q5_k", "nf4", "q4_k", "q4_0",
                                                "q3_k", "q2_k"]] = None,
                    resolution: Optional[app_commands.Range[int, 64, 8192]] = None,
                    frames: Optional[app_commands.Range[int, 1, 2048]] = None,
                    gpu: Optional[app_commands.Transform[str, HardwareTransformer]] = None) -> None:
        fields = SizingFields(gpu=_gpu(gpu), calc=CalcFields(image_model=model, precision=precision, height=resolution,
                                                             frames=frames))
        await self.answer_kind(interaction, "image", fields, f"/image {model}" + (f" on {gpu}" if gpu else ""))

    @app_commands.command(name="cost", description="Local cost per million tokens against dated API prices, or "
                                                    "setups for a budget.")
    @app_commands.describe(model="the model", gpu="the GPU (leave out with a budget)", gpus="how many",
                           budget="USD for the whole setup: rank what runs the model by price per token/s",
                           price="what the hardware cost you, USD, all cards", watts="measured draw under load",
                           kwh="electricity price per kWh (default 0.30)", hours_per_day="hours a day in use "
                           "(default 8)", api_in="an API's price, USD per million input tokens",
                           api_out="an API's price, USD per million output tokens")
    async def cost(self, interaction: discord.Interaction,
                   model: app_commands.Transform[Model, ModelTransformer],
                   gpu: Optional[app_commands.Transform[str, HardwareTransformer]] = None,
                   gpus: app_commands.Range[int, 1, MAX_GPUS] = 1,
                   budget: Optional[app_commands.Range[float, 1.0, 1_000_000.0]] = None,
                   price: Optional[app_commands.Range[float, 1.0, 1_000_000.0]] = None,
                   watts: Optional[app_commands.Range[float, 1.0, 10_000.0]] = None,
                   kwh: Optional[app_commands.Range[float, 0.0, 10.0]] = None,
                   hours_per_day: Optional[app_commands.Range[float, 0.1, 24.0]] = None,
                   api_in: Optional[app_commands.Range[float, 0.0, 1000.0]] = None,
                   api_out: Optional[app_commands.Range[float, 0.0, 1000.0]] = None) -> None:
        calc = CalcFields(budget_usd=budget, price_usd=price, watts=watts, kwh=kwh, hours_per_day=hours_per_day,
                          api_in=api_in, api_out=api_out)
        fields = SizingFields(model=_model_ref(model), gpu=_gpu(gpu), gpus=gpus, calc=calc)
        await self.answer_kind(interaction, "cost", fields, f"/cost {model.id}" + (f" on {gpu}" if gpu else ""))

    @app_commands.command(name="whatcanirun", description="The best models that run well on your hardware, ranked.")
    @app_commands.describe(hardware="GPU, Mac or CPU and RAM, e.g. 'rtx 3060', '2x 3090', 'm2 max 64gb', '8gb vram'",
                           gpus="how many of that GPU", use="what the model is for (default any)",
                           context="context length in tokens (default 8192)")
    async def whatcanirun(self, interaction: discord.Interaction,
                          hardware: app_commands.Transform[SizingFields, SetupTransformer],
                          gpus: Optional[app_commands.Range[int, 1, MAX_GPUS]] = None,
                          use: Optional[Uses] = None,
                          context: Optional[app_commands.Range[int, 256, MAX_CONTEXT]] = None) -> None:
        fields = hardware.model_copy(update={"gpus": gpus or hardware.gpus, "context": context or hardware.context,
                                             "model": None, "calc": None})
        await self.answer_kind(interaction, "what_can_i_run", fields, "/whatcanirun", use=use)


async def setup(bot: WillItRunBot) -> None:
    await bot.add_cog(CalculatorCommands(bot))
