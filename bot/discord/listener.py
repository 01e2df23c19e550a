"""Questions in channels: when the bot is @mentioned, in replies to its answers, in threads it started, and in
channels set to listen, where it answers only what the router is confident about and stays silent otherwise.

Mentions are checked with `bot.user in message.mentions`: `User.mentioned_in` is also true for @everyone and @here.
Bots and webhooks are ignored, so two bots never answer each other forever.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Literal

import discord
from discord.ext import commands

from bot.discord.asking import answer_question, page_url, position_text, posts_for, record_of, remember
from bot.discord.error_replies import cooldown_message, user_message_for
from bot.discord.render import Post, streaming_preview
from bot.discord.replies import send_to_channel
from bot.discord.store import DEFAULT_MODE, AnswerRecord, softly
from bot.discord.streaming import ThrottledEdits
from bot.discord.views import answer_view
from bot.logs import is_pasted_log
from bot.logs.attachments import UnreadableAttachment, attachment_text, check_attachment, no_log_in
from bot.routing import LISTEN_THRESHOLD, SizingFields

if TYPE_CHECKING:
    from bot.discord.app import WillItRunBot

log = logging.getLogger(__name__)
Trigger = Literal["direct", "mention", "reply", "thread", "listen"]
# what the bot says in a listen-mode channel when nobody asked it directly: answers, never "I don't know"
UNPROMPTED_KINDS = ("sizing", "choose", "knowledge", "log", "what_can_i_run", "compare", "finetune", "serve",
                    "image", "cost")
# a question kept for the report and for replies: an attached log can be a megabyte
MAX_RECORDED_CHARS = 4000
HOW_TO_ASK = ("Ask me about running models locally, e.g. \"will llama 3.1 70b fit on two 3090s?\" or \"what is "
              "the KV cache?\". Slash commands: /willitrun, /ask, /glossary, /error, /compare, /choosegpu.")


def without_mentions_of(content: str, user_id: int) -> str:
    return re.sub(rf"<@!?{user_id}>", " ", content).strip()


def question_in(message: discord.Message, bot_id: int) -> str:
    """The question a message asks. A forum post's starter message (its id is the thread's) often leaves the
    question in the post's title, so the title comes first."""
    text = without_mentions_of(message.content, bot_id)
    channel = message.channel
    if isinstance(channel, discord.Thread) and message.id == channel.id and channel.name:
        return f"{channel.name}\n{text}".strip()
    return text


class ChannelQuestions(commands.Cog):
    def __init__(self, bot: WillItRunBot):
        self.bot = bot

    async def trigger(self, message: discord.Message) -> Trigger | None:
        """Why the bot should read `message` as a question to it, or None."""
        me = self.bot.user
        channel = message.channel
        if message.guild is None:
            return "direct"          # a direct message is always to the bot
        # a thread follows the mode of the channel it is in
        mode_channel = getattr(channel, "parent_id", None) or channel.id
        mode = await softly(self.bot.store.channel_mode, mode_channel, default=DEFAULT_MODE,
                            what="read a channel's mode")
        if mode == "off" or me is None:
            return None
        if me in message.mentions:
            return "mention"
        if await self.replied_record(message) is not None or self.replies_to_me(message):
            return "reply"
        if isinstance(channel, discord.Thread) and channel.owner_id == me.id:
            return "thread"
        if mode == "listen":
            return "listen"
        return None

    def replies_to_me(self, message: discord.Message) -> bool:
        resolved = message.reference.resolved if message.reference is not None else None
        return isinstance(resolved, discord.Message) and resolved.author == self.bot.user

    async def replied_record(self, message: discord.Message) -> AnswerRecord | None:
        """What the answer this message replies to was about, when it replies to one of the bot's answers."""
        if message.reference is None or message.reference.message_id is None:
            return None
        return await softly(self.bot.store.answer_record, message.reference.message_id, default=None,
                            what="read what an answer was about")

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id is not None or self.bot.user is None:
            return
        trigger = await self.trigger(message)
        if trigger is None:
            return
        try:
            with self.bot.answering():
                await self.answer(message, trigger)
        except Exception as exc:       # every question gets an answer or a polite refusal
            text = user_message_for(exc)
            try:
                await message.reply(text)
            except discord.HTTPException:
                log.exception("could not tell the asker about a failure")

    async def answer(self, message: discord.Message, trigger: Trigger) -> None:
        explicit = trigger != "listen"
        # a question to the bot counts against the limits before anything is said, so that spam gets at most one
        # "slow down" a window, and not one "how to ask" or "too long" per message either
        if explicit and not await self.admitted(message, tell=True):
            return
        question = question_in(message, self.bot.user.id)
        attached, refusal = await attached_log(message)
        if refusal is not None and explicit:
            await message.reply(refusal)
        if not question and not attached:
            # without the Message Content intent only mentions carry text; an empty mention gets a hint
            if trigger in ("mention", "direct") and refusal is None:
                await message.reply(HOW_TO_ASK)
            return
        limit = self.bot.settings.max_question_chars
        # a pasted log is read, not phrased by a model: it may fill a whole message
        if len(question) > limit and not is_pasted_log(question):
            if explicit:
                await message.reply(f"That question is {len(question):,} characters long; I take at most "
                                    f"{limit:,}. Please shorten it.")
            return
        question = f"{question}\n{attached}".strip() if attached else question
        record = await self.replied_record(message)
        previous = record.fields if record is not None else None
        if trigger == "listen":
            route = await asyncio.to_thread(self.bot.core.router.route, question, previous)
            if route.route == "none" or route.confidence < LISTEN_THRESHOLD:
                return          # chit-chat in a listen channel: stay silent
            if not await self.admitted(message, tell=False):    # nobody asked the bot: no "slow down" either
                return
        await self.stream_answer(message, question, previous, explicit)

    async def admitted(self, message: discord.Message, tell: bool) -> bool:
        """Whether the rate limits let `message` be answered; the first refusal in a window is said, once."""
        guild_id = message.guild.id if message.guild is not None else None
        verdict = self.bot.rate_limits.check(message.author.id, guild_id, "question")
        if not verdict.allowed and verdict.tell and tell:
            await message.reply(cooldown_message(verdict.retry_after or 0))
        return verdict.allowed

    async def stream_answer(self, message: discord.Message, question: str, previous: SizingFields | None,
                            explicit: bool) -> None:
        preview: discord.Message | None = None
        thread: discord.Thread | None = None
        in_thread = self.bot.settings.discord_answer_in_threads and isinstance(message.channel, discord.TextChannel)

        async def answer_place() -> discord.abc.Messageable:
            """Where the answer goes: a thread started from the question (made on first use, so a question that
            gets no answer leaves no empty thread), or the question's channel."""
            nonlocal thread
            if in_thread and thread is None:
                thread = await message.create_thread(name=thread_name(question))
            return thread or message.channel

        async def show(text: str) -> None:
            nonlocal preview
            if preview is None:
                place = await answer_place()
                preview = await (place.send(text) if thread is not None else message.reply(text))
            else:
                await preview.edit(content=text)

        editor: ThrottledEdits[str] = ThrottledEdits(show, interval=self.bot.settings.discord_edit_interval_s)
        try:
            async with message.channel.typing():
                answer = await answer_question(
                    self.bot, question, previous=previous, explicit=explicit,
                    on_text=lambda text: editor.push(streaming_preview(text)),
                    on_position=lambda position: editor.push(position_text(position)) if position > 0 else None)
                posts = await posts_for(self.bot, answer)
        except Exception as exc:
            # the polite refusal replaces a preview already posted ("You're #2 in line", a partial answer) instead
            # of leaving it behind and replying a second time; without a preview it is the reply
            log.warning("could not answer %r: %s", question[:80], exc)
            await editor.finish(user_message_for(exc))
            return
        record = record_of(question[:MAX_RECORDED_CHARS], answer, self.bot.core.catalog)
        if not posts or (not explicit and answer.kind not in UNPROMPTED_KINDS):
            await remember(self.bot, [], record)     # an unanswerable question still counts for the report
            return
        view = answer_view(answer.kind, answer.sizing, record.request, answer.sources, self.bot.settings.public_url,
                           page_url(self.bot, answer))
        ids: list[int] = []

        async def final(first: Post) -> None:
            place = await answer_place()
            ids.extend(await send_to_channel(place, [first, *posts[1:]], view,
                                             reply_to=message if thread is None else None, first=preview))

        await editor.finish(posts[0], edit=final)
        await remember(self.bot, ids, record)


async def attached_log(message: discord.Message) -> tuple[str | None, str | None]:
    """The text of the first .txt or .log file attached to `message` that holds a log (read as text, never run),
    and a one-line reason for an attachment left out (too large, binary, another kind of file, no log in it)."""
    refusal = None
    for attachment in message.attachments:
        try:
            check_attachment(attachment.filename, attachment.size)
            data = await attachment.read()
            # decoding and reading a megabyte take a few hundred milliseconds: off the event loop
            text = await asyncio.to_thread(attachment_text, attachment.filename, data)
            if not await asyncio.to_thread(is_pasted_log, text):
                raise UnreadableAttachment(no_log_in(attachment.filename))
            return text, refusal
        except UnreadableAttachment as exc:
            refusal = refusal or str(exc)
        except discord.HTTPException:
            refusal = refusal or "I could not download the attachment from Discord; please attach it again."
    return None, refusal


def thread_name(question: str) -> str:
    """A thread title from the question: Discord allows 100 characters."""
    name = " ".join(question.split())
    return name if len(name) <= 90 else name[:89].rstrip() + "…"


async def setup(bot: WillItRunBot) -> None:
    await bot.add_cog(ChannelQuestions(bot))
