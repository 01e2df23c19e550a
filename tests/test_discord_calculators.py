"""The calculator commands end to end: the real discord.py client running our bot against the fake Discord, with the
real core. /finetune, /whatcanirun, /compare with builds, and a reply to a calculator answer that re-runs it."""
from __future__ import annotations

from fake_discord import FakeDiscord, message_text
from test_discord_e2e import answer_to, run, running

from bot.calc.finetune import FinetuneRequest
from bot.calc.finetune import estimate as finetune_estimate
from bot.format import finetune_verdict
from bot.kinds.what_can_i_run import what_can_i_run
from bot.routing.schema import GpuRef, SizingFields
from bot.sizing.devices import GIB


def test_finetune_answers_at_once_with_the_calculators_peak_and_verdict(core, tmp_path):
    expected = finetune_estimate(FinetuneRequest(model="llama-3.1-8b", method="lora", seq_len=4096, gpu="rtx-3090"),
                                 core.catalog)

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("finetune", {"model": "llama 3.1 8b", "method": "lora", "seq_len": 4096,
                                                        "gpu": "rtx 3090"})
            await interaction.wait_done()
            assert [c["type"] for c in interaction.callbacks] == [4]        # no defer
            text = interaction.answered_text()
            peak = f"{expected.peak_bytes.low / GIB:.1f}–{expected.peak_bytes.high / GIB:.1f} GB"
            assert "Llama 3.1 8B · LoRA r16 · 4,096 tokens x 1" in text and peak in text
            assert finetune_verdict(expected) in text
            assert "Assumptions" in text

    run(scenario)


def test_whatcanirun_ranks_the_models_for_a_build_typed_as_people_type_it(core, tmp_path):
    fields = SizingFields(gpu=GpuRef(id="rtx-3090", memory_gb=None), gpus=2)
    expected = what_can_i_run(core, fields, "coding")

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("whatcanirun", {"hardware": "2x 3090", "use": "coding"})
            await interaction.wait_done()
            text = interaction.answered_text()
            assert "What runs well on 2x NVIDIA GeForce RTX 3090 · 8,192 tokens · coding" in text
            first = expected.options[0]
            assert f"**1. {first.model.name}** · {first.quant}" in text
            # the ranked options' memory and speed as bars, the same chart a channel answer gets
            attachments = interaction.original["attachments"]
            assert len(attachments) == 1 and attachments[0]["filename"].endswith(".png")

    run(scenario)


def test_hardware_autocompletes_from_the_catalog_in_whatcanirun(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.autocomplete("whatcanirun", {"hardware": "rtx 309"}, focused="hardware")
            await interaction.wait_done(lambda i: i.choices)
            assert "rtx-3090" in [c["value"] for c in interaction.choices][:5]

    run(scenario)


def test_compare_accepts_builds_and_macs_with_their_memory(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("compare", {"gpu_a": "2x 3090", "gpu_b": "mac studio m2 ultra 192gb",
                                                       "model": "llama 3.3 70b"})
            await interaction.wait_done()
            text = interaction.answered_text()
            assert "2x NVIDIA GeForce RTX 3090 vs Apple M2 Ultra" in text
            assert "48 GB" in text and "192 GB" in text and "Llama 3.3 70B Q4_K_M" in text

    run(scenario)


def test_a_reply_to_a_finetune_answer_re_runs_it_with_the_new_sequence_length(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("how much vram to qlora llama 3.1 8b on a 3090?", mention_bot=True)
            first = await answer_to(fake, question)
            assert "QLoRA r16 · 2,048 tokens" in message_text(first)
            follow_up = await fake.user_message("what about at 8k?", reply_to=first, reply_ping=False)
            second = await answer_to(fake, follow_up)
            assert "QLoRA r16 · 8,192 tokens" in message_text(second)

    run(scenario)
