"""Slash-command option types that autocomplete from our catalogs and knowledge base and convert what the user
picked (or typed) into catalog objects. An unknown name raises the catalog's UnknownNameError, which carries the
closest known names; the tree's error handler shows them."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from rapidfuzz import fuzz, process

from bot.catalog.load import normalize
from bot.catalog.schema import Model
from bot.discord.limits import AUTOCOMPLETE_CHOICES, CHOICE_NAME

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot


def best_choices(current: str, options: list[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    """Up to 25 (label, value) options that best match what the user has typed so far, best first; the first 25
    when nothing is typed yet."""
    if not current.strip():
        picked = options[:AUTOCOMPLETE_CHOICES]
    else:
        query = normalize(current)
        scored = process.extract(query, [normalize(label) + " " + normalize(value) for label, value in options],
                                 scorer=fuzz.WRatio, limit=AUTOCOMPLETE_CHOICES)
        picked = [options[i] for _, _, i in scored]
    return [app_commands.Choice(name=label[:CHOICE_NAME], value=value[:CHOICE_NAME]) for label, value in picked]


def _bot(interaction: discord.Interaction) -> WillItRunBot:
    return interaction.client  # type: ignore[return-value]


class ModelTransformer(app_commands.Transformer):
    """A catalog model, by id, name or alias (typos get suggestions)."""

    async def transform(self, interaction: discord.Interaction, value: str) -> Model:
        return _bot(interaction).core.resolver.model(value).model

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        # a pasted repo id or Ollama tag completes to the model it resolves to, first
        picked = _bot(interaction).core.resolver.complete_models(value, AUTOCOMPLETE_CHOICES)
        return [app_commands.Choice(name=label[:CHOICE_NAME], value=v[:CHOICE_NAME]) for label, v in picked]


class HardwareTransformer(app_commands.Transformer):
    """A catalog GPU, Mac or CPU platform as its id; several different cards joined by '+' ("3090+3060")."""

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        catalog = _bot(interaction).core.catalog
        return "+".join(catalog.gpu(part.strip()).id for part in value.split("+") if part.strip())

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        picked = _bot(interaction).core.resolver.complete_hardware(value, AUTOCOMPLETE_CHOICES)
        return [app_commands.Choice(name=label[:CHOICE_NAME], value=v[:CHOICE_NAME]) for label, v in picked]


class QuantTransformer(app_commands.Transformer):
    """A quantization file type (Q4_K_M, Q8_0, ...), as the catalog names it."""

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        return _bot(interaction).core.catalog.file_type(value).name

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        types = _bot(interaction).core.catalog.quants.file_types
        return best_choices(value, [(q.name, q.name) for q in types])


class EntryTransformer(app_commands.Transformer):
    """Text that autocompletes to knowledge entries of one kind; left as text, so that a pasted error message
    that names no entry can still be searched for."""

    def __init__(self, kind: str):
        self.kind = kind            # "glossary" or "errors"

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        return value

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        entries = _bot(interaction).core.kb.entries.values()
        return best_choices(value, [(e.title, e.id) for e in entries if e.kind == self.kind])
