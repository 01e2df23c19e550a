"""An unknown model or hardware name in a slash command (/willitrun, /compare, /choosegpu): the reply, seen only by
the asker, names the three closest real names and offers them as buttons; a click asks the same command again with
the picked name in place of the unknown one.

The command and its options are remembered with the reply (the store, by message id), and the custom id says only
which option takes which name (`pick:gpu:rtx-4090`), so the buttons keep working after a restart. The first click
takes the remembered command, so the question is answered once; clicks are held to the per-person button limit.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.discord.asking import remember
from bot.discord.error_replies import tell_interaction_user, user_message_for
from bot.discord.interactions import too_late
from bot.discord.limits import shorten
from bot.discord.rate_limits import admitted
from bot.discord.render import Post
from bot.discord.replies import follow_up, respond
from bot.discord.store import AnswerRecord, SlashCommand, softly
from bot.errors import UnknownNameError

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot

# Discord's limits on a button (developer docs, "Button"): a longer custom id or label refuses the whole message
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
PREFIX = "pick"
FORGOTTEN = "I no longer remember that question; please ask it again."
ANSWERED = "That question was answered already; ask again to pick another name."


def _bot(interaction: discord.Interaction) -> WillItRunBot:
    return interaction.client  # type: ignore[return-value]


def unknown_name(error: BaseException) -> UnknownNameError | None:
    """The UnknownNameError (with suggestions) inside what a command or transformer raised, if that is what it was."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, UnknownNameError):
        cause = cause.__cause__
    return cause if cause is not None and cause.suggestions else None


def sent_options(interaction: discord.Interaction) -> dict[str, str | int | float]:
    """A slash command's top-level options as sent (a command with subcommands has none here)."""
    options = (interaction.data or {}).get("options") or []
    return {o["name"]: o["value"] for o in options if "value" in o and not isinstance(o["value"], bool)}


def _span(value: str, name: str) -> re.Match | None:
    """Where `name` is written in an option's value, whatever the case and spacing ('rtx 3900' in '2x RTX  3900')."""
    words = name.split()
    return re.search(r"\s*".join(map(re.escape, words)), value, re.IGNORECASE) if words else None


def option_holding(options: dict, name: str) -> str | None:
    """Which text option holds the unknown `name` (alone, or inside a setup such as '3090+3900' or '2x 3900')."""
    return next((o for o, v in options.items() if isinstance(v, str) and _span(v, name)), None)


def substituted(value: str, unknown: str, picked: str) -> str:
    found = _span(value, unknown)
    return value[:found.start()] + picked + value[found.end():] if found else picked


def label_for(kind: str, picked: str, bot: WillItRunBot) -> str:
    """A button's label: the catalog's own name for a suggestion (the error suggests ids)."""
    catalog = bot.core.catalog
    try:
        if kind == "model":
            text = catalog.model(picked).name
        elif kind == "quantization":
            text = catalog.file_type(picked).name
        else:
            hardware = catalog.gpu(picked)
            text = f"{hardware.name} ({hardware.memory_gb:g} GB)"
    except UnknownNameError:
        text = picked
    return shorten(text, LABEL_LIMIT)


class PickButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"{PREFIX}:(?P<option>[a-z_]+):(?P<name>\S+)"):
    """Ask the remembered command again with `option` set to the catalog name `name`."""

    def __init__(self, option: str, name: str, label: str = ""):
        super().__init__(discord.ui.Button(style=discord.ButtonStyle.primary, label=label or name,
                                           custom_id=f"{PREFIX}:{option}:{name}"))
        self.option = option
        self.name = name

    @classmethod
    async def from_custom_id(cls, interaction, item, match, /):
        return cls(match["option"], match["name"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if too_late(interaction):
            return False
        return await admitted(interaction, _bot(interaction).rate_limits, "button")

    async def callback(self, interaction: discord.Interaction) -> None:
        asked = None
        try:
            asked = await self.taken(interaction)
            if asked is not None:
                await ask(interaction, *asked)
        except Exception as exc:      # discord.py would only log it; the person who clicked is told
            if asked is None or not await offer_names(interaction, exc, asked):
                await tell_interaction_user(interaction, user_message_for(exc))

    async def taken(self, interaction: discord.Interaction) -> tuple[str, dict] | None:
        """The remembered command and its options with the picked name in place, taken so that it is answered
        once; None (and the person told why) when there is none."""
        bot = _bot(interaction)
        message_id = interaction.message.id if interaction.message else None
        record = None
        if message_id is not None:
            record = await softly(bot.store.answer_record, message_id, default=None, what="read a name pick")
        if record is None or record.command is None:
            await tell_interaction_user(interaction, FORGOTTEN if record is None else ANSWERED)
            return None
        await softly(bot.store.remember_answer, message_id, record.model_copy(update={"command": None}),
                     default=None, what="mark a name pick answered")
        asked = record.command
        options = dict(asked.options)
        options[self.option] = substituted(str(options.get(self.option, self.name)), asked.unknown, self.name)
        return asked.name, options


async def ask(interaction: discord.Interaction, name: str, options: dict) -> None:
    """Run slash command `name` with `options` (as typed) for `interaction`, as if it had been sent that way: each
    option read by the command's own transformer, then its callback."""
    command = _bot(interaction).tree.get_command(name)
    if not isinstance(command, app_commands.Command) or command.binding is None:
        await tell_interaction_user(interaction, FORGOTTEN)
        return
    # discord.py keeps each parameter's transformer on Command._params; the public Parameter cannot transform
    params = command._params
    values = {option: await params[option].transform(interaction, value) for option, value in options.items()
              if option in params}
    await command.callback(command.binding, interaction, **values)


async def offer_names(interaction: discord.Interaction, error: BaseException,
                      asked: tuple[str, dict] | None = None) -> bool:
    """When `error` is an unknown name in one of a command's options: reply (to the asker only) with the closest
    real names as buttons, remember the command, and return True; False, having sent nothing, otherwise. `asked`:
    the command and options, when they are not the interaction's own (a click that asked again)."""
    unknown = unknown_name(error)
    if unknown is None:
        return False
    if asked is None:
        if interaction.type is not discord.InteractionType.application_command or interaction.command is None:
            return False
        asked = (interaction.command.qualified_name, sent_options(interaction))
    name, options = asked
    option = option_holding(options, unknown.name)
    if option is None:
        return False
    bot = _bot(interaction)
    view = discord.ui.View(timeout=None)
    for picked in unknown.suggestions[:3]:
        button = PickButton(option, picked, label_for(unknown.kind, picked, bot))
        if len(button.custom_id) <= CUSTOM_ID_LIMIT:
            view.add_item(button)
    if not view.children:
        return False
    post = Post(content=f"{unknown} Pick one to ask again with it:")
    if interaction.response.is_done():
        ids = await follow_up(interaction, [post], view, ephemeral=True)
    else:
        ids = await respond(interaction, [post], view, ephemeral=True)
    question = f"/{name} " + " ".join(f"{k}:{v}" for k, v in options.items())
    command = SlashCommand(name=name, options=options, option=option, unknown=unknown.name)
    await remember(bot, ids, AnswerRecord(question=question, kind="clarify", command=command))
    return True
