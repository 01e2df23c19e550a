"""A fake Discord (gateway + REST) on 127.0.0.1, for end-to-end tests that drive the real discord.py client.

One guild with a text channel "general" and a forum channel (`add_guild` makes more), three people (the bot, a
user who asks questions, the application owner), and the platform rules a bot can break: message and embed limits,
the 3-second window for the initial interaction response, the 15-minute interaction token, one initial response per
interaction, rate limits (429 with the headers discord.py needs to retry), the Message Content intent and its close
code 4014, and sharding: each IDENTIFY with `shard: [id, count]` is a session of its own, and a guild's events go
only to the session of the shard that owns the guild.

Point discord.py at it before `bot.start()`:

    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
        task = asyncio.create_task(bot.start(fake.token))
        await fake.wait_ready()
        await fake.user_message("will llama 70b fit on a 4090?", mention_bot=True)
        await fake.wait_for(lambda: fake.bot_messages())

Paths in `requests`, `rate_limit_next` and `edits_of` are relative to `api_base` ("/channels/1/messages").
Times (`Request.at`, `FakeInteraction.dispatched_at`, edit times) come from the injectable clock, moved on by
`advance_clock`; the `wait_*` helpers time out on the real clock.
"""
from __future__ import annotations

import asyncio
import copy
import fnmatch
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1420070400000

MESSAGE_CONTENT_INTENT = 1 << 15
PRIVILEGED_INTENTS_ALWAYS_GRANTED = (1 << 1) | (1 << 8)  # members, presences: only message content is simulated

# message flags
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15

# channel types
GUILD_TEXT = 0
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15

# interaction types
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4

# message types
DEFAULT_MESSAGE = 0
REPLY = 19
CHAT_INPUT_COMMAND = 20

INITIAL_RESPONSE_WINDOW_S = 3.0  # Discord's limit for the first interaction callback
TOKEN_LIFETIME_S = 15 * 60  # interaction tokens (edits, followups) expire after 15 minutes
HEARTBEAT_INTERVAL_MS = 41250
LINK_BUTTON = 5  # button style: opens `url`, sends the bot nothing
BUTTON_URL_LIMIT = 512
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100


def shard_of(guild_id: str | int, shard_count: int) -> int:
    """The shard that receives a guild's events (developer docs, topics/gateway#sharding)."""
    return (int(guild_id) >> 22) % shard_count

BODY = web.RequestKey("body", object)  # the parsed JSON body, or payload_json of a multipart body
UPLOADS = web.RequestKey("uploads", list)  # files of a multipart body: {"name", "data", "content_type"}

ADMINISTRATOR = 1 << 3
EVERYONE_PERMISSIONS = sum(
    1 << bit
    for bit in (
        6,  # add reactions
        10,  # view channel
        11,  # send messages
        14,  # embed links
        15,  # attach files
        16,  # read message history
        31,  # use application commands
        35,  # create public threads
        38,  # send messages in threads
    )
)

# Discord's documented message limits (developer docs, "Message resource" and "Embed limits")
CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_AUTHOR_NAME_LIMIT = 256
EMBEDS_TOTAL_LIMIT = 6000
COMPONENTS_V2_TEXT_LIMIT = 4000
COMPONENTS_V2_COUNT_LIMIT = 40
AUTOCOMPLETE_CHOICES_LIMIT = 25


@dataclass
class Request:
    """One REST call as the fake received it."""

    method: str
    path: str  # relative to api_base, without the query
    query: dict[str, str]
    json: Any  # the JSON body, or `payload_json` of a multipart body; None without a body
    headers: dict[str, str]
    at: float
    status: int = 0  # the status the fake answered with
    attachments: list[dict] = field(default_factory=list)  # uploaded files: {"name", "size", "content_type"}


class DiscordError(Exception):
    """An error response in Discord's shape: `{"code", "message", "errors"?}`."""

    def __init__(self, status: int, code: int, message: str, errors: dict | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses a body whose Content-Type is exactly "application/json" (http.json_or_text);
    # aiohttp's json_response appends "; charset=utf-8", which would make discord.py see a string.
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


# --- message validation ---------------------------------------------------------------------------------------


def _too_long(limit: int) -> dict:
    return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}]}


def _error(code: str, message: str) -> dict:
    return {"_errors": [{"code": code, "message": message}]}


def embed_errors(embed: dict) -> dict:
    errors: dict[str, Any] = {}
    if len(embed.get("title") or "") > EMBED_TITLE_LIMIT:
        errors["title"] = _too_long(EMBED_TITLE_LIMIT)
    if len(embed.get("description") or "") > EMBED_DESCRIPTION_LIMIT:
        errors["description"] = _too_long(EMBED_DESCRIPTION_LIMIT)
    if len((embed.get("footer") or {}).get("text") or "") > EMBED_FOOTER_LIMIT:
        errors["footer"] = {"text": _too_long(EMBED_FOOTER_LIMIT)}
    if len((embed.get("author") or {}).get("name") or "") > EMBED_AUTHOR_NAME_LIMIT:
        errors["author"] = {"name": _too_long(EMBED_AUTHOR_NAME_LIMIT)}
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_LIMIT:
        errors["fields"] = _too_long(EMBED_FIELDS_LIMIT)
    field_errors: dict[str, Any] = {}
    for index, embed_field in enumerate(fields):
        one: dict[str, Any] = {}
        if len(embed_field.get("name") or "") > EMBED_FIELD_NAME_LIMIT:
            one["name"] = _too_long(EMBED_FIELD_NAME_LIMIT)
        if len(embed_field.get("value") or "") > EMBED_FIELD_VALUE_LIMIT:
            one["value"] = _too_long(EMBED_FIELD_VALUE_LIMIT)
        if one:
            field_errors[str(index)] = one
    if field_errors and "fields" not in errors:
        errors["fields"] = field_errors
    return errors


def embed_text_length(embed: dict) -> int:
    """The characters Discord counts towards the 6000 limit shared by all embeds of a message."""
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + len((embed.get("footer") or {}).get("text") or "")
        + len((embed.get("author") or {}).get("name") or "")
        + sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
    )


def _walk_components(components: list[dict]) -> list[dict]:
    found = []
    for component in components:
        found.append(component)
        found.extend(_walk_components(component.get("components") or []))
        if isinstance(component.get("accessory"), dict):
            found.append(component["accessory"])
    return found


def message_errors(body: dict) -> dict:
    """Discord's limits on a message body, as the `errors` tree of a 50035 response (empty when it is valid)."""
    errors: dict[str, Any] = {}
    content = body.get("content") or ""
    if len(content) > CONTENT_LIMIT:
        errors["content"] = _too_long(CONTENT_LIMIT)
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        errors["embeds"] = _too_long(EMBEDS_PER_MESSAGE)
    else:
        per_embed = {str(i): e for i, embed in enumerate(embeds) if (e := embed_errors(embed))}
        if per_embed:
            errors["embeds"] = per_embed
        elif sum(embed_text_length(embed) for embed in embeds) > EMBEDS_TOTAL_LIMIT:
            errors["embeds"] = _error("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    buttons = {str(i): e for i, c in enumerate(_walk_components(body.get("components") or []))
               if c.get("type") == 2 and (e := button_errors(c))}
    if buttons:
        errors["components"] = buttons
    if (body.get("flags") or 0) & IS_COMPONENTS_V2:
        if content:
            errors["content"] = _error("MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "Cannot use content")
        if embeds:
            errors["embeds"] = _error("MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "Cannot use embeds")
        every = _walk_components(body.get("components") or [])
        text = sum(len(c.get("content") or "") for c in every if c.get("type") == 10)
        if len(every) > COMPONENTS_V2_COUNT_LIMIT:
            errors["components"] = _too_long(COMPONENTS_V2_COUNT_LIMIT)
        elif text > COMPONENTS_V2_TEXT_LIMIT:
            errors["components"] = _error("COMPONENT_MAX_TOTAL_TEXT_LENGTH_EXCEEDED", "Total text over 4000")
    return errors


def button_errors(button: dict) -> dict:
    """A link button has a url and no custom_id; every other button the reverse (developer docs, "Button")."""
    errors: dict[str, Any] = {}
    if len(button.get("label") or "") > BUTTON_LABEL_LIMIT:
        errors["label"] = _too_long(BUTTON_LABEL_LIMIT)
    url, custom_id = button.get("url"), button.get("custom_id")
    if button.get("style") == LINK_BUTTON:
        if not url or not re.match(r"^(https?|discord)://", url):
            errors["url"] = _error("URL_TYPE_INVALID_URL", "Not a well formed URL.")
        elif len(url) > BUTTON_URL_LIMIT:
            errors["url"] = _too_long(BUTTON_URL_LIMIT)
        if custom_id is not None:
            errors["custom_id"] = _error("BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A link button has no custom_id")
    else:
        if not custom_id or len(custom_id) > CUSTOM_ID_LIMIT:
            errors["custom_id"] = _error("BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {CUSTOM_ID_LIMIT} in length.")
        if url is not None:
            errors["url"] = _error("BUTTON_COMPONENT_URL_NOT_ALLOWED", "Only a link button has a url")
    return errors


def is_empty_message(body: dict, attachments: list[dict]) -> bool:
    return not (
        (body.get("content") or "").strip()
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or attachments
    )


def check_new_message(body: dict, attachments: list[dict], *, prefix: str | None = None) -> None:
    check_message_edit(body, prefix=prefix)
    if is_empty_message(body, attachments):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def check_message_edit(body: dict, *, prefix: str | None = None) -> None:
    errors = message_errors(body)
    if errors:
        raise DiscordError(400, 50035, "Invalid Form Body", {prefix: errors} if prefix else errors)


COMMAND_NAME = re.compile(r"^[-_a-z0-9]{1,32}$")  # Discord allows more scripts; ASCII covers this bot


def command_errors(command: dict) -> dict:
    """The checks Discord applies to a chat-input command on registration that a bot can actually trip."""
    errors: dict[str, Any] = {}
    if command.get("type", 1) == 1:
        if not COMMAND_NAME.match(command.get("name", "")):
            errors["name"] = _error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if not 1 <= len(command.get("description") or "") <= 100:
            errors["description"] = _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    options = command.get("options") or []
    if len(options) > 25:
        errors["options"] = _too_long(25)
    seen_optional = False
    for index, option in enumerate(options):
        one = command_errors({**option, "type": 1}) if option.get("type") in (1, 2) else {}
        if option.get("type") not in (1, 2):
            if not COMMAND_NAME.match(option.get("name", "")):
                one["name"] = _error("APPLICATION_COMMAND_INVALID_NAME", "Option name is invalid")
            if not 1 <= len(option.get("description") or "") <= 100:
                one["description"] = _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            if len(option.get("choices") or []) > 25:
                one["choices"] = _too_long(25)
            if option.get("required") and seen_optional:
                one["required"] = _error("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options first")
            seen_optional = seen_optional or not option.get("required")
        if one:
            errors.setdefault("options", {})[str(index)] = one
    return errors


# --- mentions -------------------------------------------------------------------------------------------------

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")


def allows(allowed: dict | None, kind: str, snowflake: str | None = None) -> bool:
    """Whether `allowed_mentions` lets a mention of `kind` ("users", "roles", "everyone") ping."""
    if allowed is None:
        return True  # without allowed_mentions Discord parses every mention in the content
    if kind in (allowed.get("parse") or []):
        return True
    return snowflake is not None and snowflake in [str(x) for x in allowed.get(kind) or []]


# --- interactions ---------------------------------------------------------------------------------------------


class FakeInteraction:
    """One interaction the fake dispatched, and what the bot answered through its callback and webhook."""

    def __init__(self, fake: FakeDiscord, payload: dict, dispatched_at: float) -> None:
        self._fake = fake
        self.payload = payload  # the INTERACTION_CREATE `d`
        self.id: str = payload["id"]
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.dispatched_at = dispatched_at
        self.callbacks: list[dict] = []  # the accepted callback bodies, in order
        self.original_id: str | None = None
        self.followup_ids: list[str] = []
        self.answers = 0  # writes that are not a defer: callbacks 4/7/8/9, followups, edits
        self.last_written_id: str | None = None

    @property
    def original(self) -> dict | None:
        return self._fake.message(self.original_id) if self.original_id else None

    @property
    def followups(self) -> list[dict]:
        return [m for m in (self._fake.message(i) for i in self.followup_ids) if m is not None]

    @property
    def deferred(self) -> bool:
        return bool(self.callbacks) and self.callbacks[0]["type"] in (5, 6)

    @property
    def ephemeral(self) -> bool:
        message = self.original
        return message is not None and bool(message["flags"] & EPHEMERAL)

    @property
    def choices(self) -> list[dict]:
        """The autocomplete choices of the latest type 8 callback."""
        for callback in reversed(self.callbacks):
            if callback["type"] == 8:
                return callback.get("data", {}).get("choices", [])
        return []

    def answered_text(self) -> str:
        """Content and embed texts of the message the bot wrote last, unless it is still "thinking"."""
        message = self._fake.message(self.last_written_id) if self.last_written_id else None
        if message is None or message["flags"] & LOADING:
            return ""
        return message_text(message)

    async def wait_done(self, predicate: Callable[[FakeInteraction], bool] | None = None, timeout: float = 10) -> None:
        """Wait until `predicate(self)` holds; by default until the bot answered (a defer is not an answer)."""
        check = predicate or (lambda interaction: interaction.answers > 0)
        await self._fake.wait_for(lambda: check(self), timeout, what=f"interaction {self.id}: {self.callbacks}")


def message_text(message: dict) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts.append((embed.get("author") or {}).get("name") or "")
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for embed_field in embed.get("fields") or []:
            parts += [embed_field.get("name") or "", embed_field.get("value") or ""]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(part for part in parts if part)


# --- the server -----------------------------------------------------------------------------------------------


@dataclass
class GatewaySession:
    """One IDENTIFYed gateway session: a shard of the bot (shard 0 of 1 when the bot does not shard)."""

    shard_id: int
    shard_count: int
    session_id: str | None  # None once invalidated: a RESUME is refused
    ws: web.WebSocketResponse | None  # None while the bot is away (it may RESUME)
    seq: int = 0
    events: list[dict] = field(default_factory=list)  # every dispatch of this session, replayed on RESUME
    ready: bool = False  # READY and the GUILD_CREATEs were sent

    def owns(self, guild_id: str | None) -> bool:
        # events outside any guild (DMs) go to shard 0
        return self.shard_id == (0 if guild_id is None else shard_of(guild_id, self.shard_count))

    def dispatched(self, event: str) -> list[dict]:
        """The `d` of every `event` this session was sent."""
        return [frame["d"] for frame in self.events if frame["t"] == event]


class TimedSnowflakes:
    """Ids that carry the time they are made, as Discord's do: a bot reads an interaction's age from its id.
    `lag_s` makes new ids look that much older (an event that reached the bot late)."""

    def __init__(self) -> None:
        self.count = itertools.count()
        self.lag_s = 0.0

    def __next__(self) -> int:
        ms = int((time.time() - self.lag_s) * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self.count) & 0x3FFFFF)


class FakeDiscord:
    """The server and its world: guilds (one to start with), their channels, people, messages, commands,
    interactions and the gateway sessions of the bot's shards. `shard_count` is what GET /gateway/bot recommends."""

    token: str = "fake-token"  # the only token /users/@me and IDENTIFY accept

    def __init__(
        self, *, message_content_allowed: bool = True, clock: Callable[[], float] = time.monotonic,
        shard_count: int = 1,
    ) -> None:
        self.shard_count = shard_count
        self.message_content_allowed = message_content_allowed  # the Developer Portal toggle
        self.close_code_on_identify: int | None = None  # e.g. 4004 or 4014: close the gateway after IDENTIFY
        self._clock = clock
        self._clock_offset = 0.0
        self.ids = TimedSnowflakes()    # `fake.ids.lag_s = 5` makes the next events look 5 s old

        self.bot_user = self._new_user("willitrun", bot=True)
        self.app_id: str = self.bot_user["id"]  # a bot user has its application's id: "<@APP_ID>" mentions the bot
        self.user = self._new_user("asker")
        self.owner_user = self._new_user("owner")
        self.other_bot_user = self._new_user("other-bot", bot=True)
        self._users: dict[str, dict] = {}
        self._members: dict[str, dict] = {}
        self.guild_id = self._next_id()
        self.admin_role_id = self._next_id()
        self.roles = [
            self._role(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
            self._role(self.admin_role_id, "Admin", ADMINISTRATOR, 1),
        ]
        self._guilds: dict[str, dict] = {self.guild_id: {"name": "LocalLLaMA fans", "roles": self.roles}}
        for member in (self.bot_user, self.user, self.owner_user, self.other_bot_user):
            self.add_member(member)
        self._members[self.owner_user["id"]]["roles"] = [self.admin_role_id]

        self.channel_id = self._next_id()
        self.forum_channel_id = self._next_id()
        self._channels: dict[str, dict] = {
            self.channel_id: self._text_channel(self.channel_id, "general", 0, self.guild_id),
            self.forum_channel_id: self._forum_channel(self.forum_channel_id, "help-forum", 1, self.guild_id),
        }
        self._messages: dict[str, dict] = {}
        self._edits: dict[str, list[tuple[float, dict]]] = {}
        self._reactions: dict[str, list[str]] = {}
        self._files: dict[str, bytes] = {}

        self.global_commands: list[dict] = []
        self.commands_by_guild: dict[str, list[dict]] = {}
        self._command_ids: dict[tuple[str | None, int, str], str] = {}  # (guild, type, name) -> stable id

        self.requests: list[Request] = []
        self._rate_limits: list[tuple[str, str, float]] = []
        self.interactions: list[FakeInteraction] = []
        self._interactions: dict[str, FakeInteraction] = {}

        self.identifies = 0
        self.resumes = 0
        self.identify_payloads: list[dict] = []
        self.intents: int | None = None  # from the last IDENTIFY
        self._sessions: dict[int, GatewaySession] = {}  # by shard id
        self._sockets: set[web.WebSocketResponse] = set()
        self._send_lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # --- lifecycle ---

    async def start(self) -> None:
        app = web.Application(middlewares=[self._rest_middleware], client_max_size=32 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- clock and waiting ---

    def now(self) -> float:
        return self._clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        self._clock_offset += seconds

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10, *, what: str = "") -> None:
        """Poll `predicate` until it is truthy; AssertionError after `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s {what}".strip())
            await asyncio.sleep(0.01)

    async def wait_ready(self, timeout: float = 10) -> None:
        """Wait until READY and GUILD_CREATE of a new session were sent."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not IDENTIFY within {timeout} s") from None

    @property
    def ready_shards(self) -> list[int]:
        """The shards with a connected session that got READY and its GUILD_CREATEs."""
        return sorted(i for i, s in self._sessions.items() if s.ready and s.ws is not None)

    def session(self, shard_id: int = 0) -> GatewaySession | None:
        """The latest session of a shard (the one it RESUMEs), or None before it IDENTIFYs."""
        return self._sessions.get(shard_id)

    # --- world ---

    def _next_id(self) -> str:
        return str(next(self.ids))

    def _new_user(self, name: str, *, bot: bool = False) -> dict:
        return {
            "id": self._next_id(),
            "username": name,
            "discriminator": "0",
            "global_name": None if bot else name.capitalize(),
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }

    def make_user(self, name: str, *, bot: bool = False) -> dict:
        """Another guild member, e.g. a second person asking questions."""
        user = self._new_user(name, bot=bot)
        self.add_member(user)
        return user

    def add_member(self, user: dict) -> None:
        self._users[user["id"]] = user
        self._members.setdefault(
            user["id"],
            {"user": user, "roles": [], "joined_at": iso_now(), "deaf": False, "mute": False, "flags": 0},
        )

    def add_guild(self, name: str, *, shard: int | None = None) -> tuple[str, str]:
        """Another guild with every member and a text channel "general": (guild id, channel id). With `shard`, its
        id is picked so that shard owns it among `shard_count` shards. Add guilds before the bot connects: READY
        and GUILD_CREATE announce them."""
        if shard is not None and not 0 <= shard < self.shard_count:
            raise ValueError(f"shard {shard} is not one of the fake's {self.shard_count} (FakeDiscord(shard_count=))")
        guild_id = self._next_id()
        if shard is not None:  # the same counter bits a few milliseconds earlier: still unique
            ms = int(guild_id) >> 22
            ms -= (ms - shard) % self.shard_count
            guild_id = str((ms << 22) | (int(guild_id) & 0x3FFFFF))
        self._guilds[guild_id] = {"name": name, "roles": [self._role(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)]}
        channel_id = self._next_id()
        self._channels[channel_id] = self._text_channel(channel_id, "general", 0, guild_id)
        return guild_id, channel_id

    def guild_of(self, channel_id: str) -> str:
        return self._channels[channel_id]["guild_id"] if channel_id in self._channels else self.guild_id

    def _role(self, role_id: str, name: str, permissions: int, position: int) -> dict:
        return {
            "id": role_id, "name": name, "permissions": str(permissions), "position": position, "color": 0,
            "hoist": False, "managed": False, "mentionable": False, "flags": 0,
        }

    def _text_channel(self, channel_id: str, name: str, position: int, guild_id: str) -> dict:
        return {
            "id": channel_id, "type": GUILD_TEXT, "guild_id": guild_id, "name": name, "position": position,
            "permission_overwrites": [], "parent_id": None, "nsfw": False, "topic": None, "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def _forum_channel(self, channel_id: str, name: str, position: int, guild_id: str) -> dict:
        return {
            **self._text_channel(channel_id, name, position, guild_id), "type": GUILD_FORUM, "available_tags": [],
            "default_reaction_emoji": None, "default_sort_order": None, "default_forum_layout": 0, "flags": 0,
        }

    def channel(self, channel_id: str) -> dict:
        return copy.deepcopy(self._channels[channel_id])

    @property
    def threads(self) -> list[dict]:
        return [copy.deepcopy(c) for c in self._channels.values() if c["type"] in (PUBLIC_THREAD, PRIVATE_THREAD)]

    def _member_of(self, user: dict) -> dict:
        return self._members.get(user["id"]) or {
            "user": user, "roles": [], "joined_at": iso_now(), "deaf": False, "mute": False, "flags": 0,
        }

    def _guild_payload(self, guild_id: str) -> dict:
        guild = self._guilds[guild_id]
        channels = [c for c in self._channels.values() if c["guild_id"] == guild_id]
        return {
            "id": guild_id, "name": guild["name"], "icon": None, "owner_id": self.owner_user["id"],
            "unavailable": False, "member_count": len(self._members), "large": False, "roles": guild["roles"],
            "emojis": [], "stickers": [], "features": [], "voice_states": [], "presences": [],
            "threads": [copy.deepcopy(c) for c in channels if c["type"] in (PUBLIC_THREAD, PRIVATE_THREAD)],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "members": list(self._members.values()),
            "channels": [c for c in channels if c["type"] in (GUILD_TEXT, GUILD_FORUM)],
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0,
            "system_channel_flags": 0, "joined_at": self._members[self.bot_user["id"]]["joined_at"],
        }

    # --- messages ---

    def message(self, message_id: str) -> dict | None:
        """The current state of a message, or None if there is none (any more)."""
        found = self._messages.get(message_id)
        return copy.deepcopy(found) if found is not None else None

    def bot_messages(self, channel_id: str | None = None) -> list[dict]:
        """Messages the bot wrote in the channel, current state, oldest first: sent messages and the non-ephemeral
        interaction responses and followups (Discord shows those in the channel too)."""
        wanted = channel_id or self.channel_id
        return [
            copy.deepcopy(m)
            for m in self._messages.values()
            if m["channel_id"] == wanted and m["author"]["id"] == self.bot_user["id"] and not m["flags"] & EPHEMERAL
        ]

    def edits_of(self, message_id: str) -> list[tuple[float, dict]]:
        """Every accepted edit of a message: (time, the request body as sent)."""
        return list(self._edits.get(message_id, []))

    def reactions_of(self, message_id: str) -> list[str]:
        """The emoji the bot reacted with on a message (unicode, or "name:id" for custom emoji)."""
        return list(self._reactions.get(message_id, []))

    def _store_attachments(self, uploads: list[dict]) -> list[dict]:
        attachments = []
        for upload in uploads:
            attachment_id = self._next_id()
            self._files[attachment_id] = upload["data"]
            url = f"{self.base_url}/attachments/{attachment_id}/{upload['name']}"
            attachments.append({
                "id": attachment_id, "filename": upload["name"], "size": len(upload["data"]), "url": url,
                "proxy_url": url, "content_type": upload.get("content_type"),
            })
        return attachments

    def _mentions(self, content: str, allowed: dict | None, replied: dict | None) -> tuple[list[dict], list[str], bool]:
        """What Discord would ping for this content: mentioned users, mentioned roles, @everyone/@here."""
        users = []
        for user_id in dict.fromkeys(USER_MENTION.findall(content)):
            if user_id in self._users and allows(allowed, "users", user_id):
                users.append(self._mention_entry(self._users[user_id]))
        # a reply pings its author unless allowed_mentions says replied_user false (the default once it is sent)
        if replied is not None and (allowed is None or allowed.get("replied_user", False)):
            if all(u["id"] != replied["id"] for u in users):
                users.append(self._mention_entry(replied))
        role_ids = {r["id"] for guild in self._guilds.values() for r in guild["roles"]}
        roles = [
            r for r in dict.fromkeys(ROLE_MENTION.findall(content)) if r in role_ids and allows(allowed, "roles", r)
        ]
        everyone = ("@everyone" in content or "@here" in content) and allows(allowed, "everyone")
        return users, roles, everyone

    def _mention_entry(self, user: dict) -> dict:
        member = {k: v for k, v in self._member_of(user).items() if k != "user"}
        return {**user, "member": member}

    def _new_message(
        self,
        *,
        channel_id: str,
        author: dict,
        body: dict,
        attachments: list[dict],
        message_type: int = DEFAULT_MESSAGE,
        extra: dict | None = None,
        message_id: str | None = None,
    ) -> dict:
        reference = body.get("message_reference")
        referenced = self._messages.get(str(reference["message_id"])) if reference else None
        if reference and message_type == DEFAULT_MESSAGE:
            message_type = REPLY
        content = body.get("content") or ""
        allowed = body.get("allowed_mentions")
        mentions, roles, everyone = self._mentions(content, allowed, referenced["author"] if referenced else None)
        message: dict[str, Any] = {
            "id": message_id or self._next_id(), "channel_id": channel_id, "guild_id": self.guild_of(channel_id),
            "author": author, "content": content, "timestamp": iso_now(), "edited_timestamp": None,
            "tts": bool(body.get("tts")), "mention_everyone": everyone, "mentions": mentions, "mention_roles": roles,
            "attachments": attachments, "embeds": body.get("embeds") or [], "pinned": False, "type": message_type,
            "flags": body.get("flags") or 0, "components": body.get("components") or [],
        }
        if body.get("webhook_id"):
            message["webhook_id"] = body["webhook_id"]
        elif author["id"] in self._members:
            message["member"] = {k: v for k, v in self._members[author["id"]].items() if k != "user"}
        if "nonce" in body:
            message["nonce"] = body["nonce"]
        if reference:
            message["message_reference"] = {
                "type": 0, "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel_id), "guild_id": message["guild_id"],
            }
            message["referenced_message"] = copy.deepcopy(referenced)
        if allowed is not None:
            message["allowed_mentions"] = allowed  # not in Discord's answer: kept so tests can check what was sent
        message.update(extra or {})
        self._messages[message["id"]] = message
        if channel_id in self._channels:
            self._channels[channel_id]["last_message_id"] = message["id"]
        return message

    def _edit_message(self, message: dict, body: dict, uploads: list[dict]) -> dict:
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        kept_flags = message["flags"] & EPHEMERAL
        if "flags" in body and body["flags"] is not None:
            message["flags"] = kept_flags | (body["flags"] & ~(EPHEMERAL | LOADING))
        else:
            message["flags"] &= ~LOADING
        if "attachments" in body:
            keep = {str(a.get("id")) for a in body["attachments"] or []}
            message["attachments"] = [a for a in message["attachments"] if a["id"] in keep]
        message["attachments"] += self._store_attachments(uploads)
        # Discord parses mentions anew on every edit, with that request's allowed_mentions
        allowed = body.get("allowed_mentions")
        if allowed is not None:
            message["allowed_mentions"] = allowed
        else:
            message.pop("allowed_mentions", None)
        replied = (message.get("referenced_message") or {}).get("author")
        message["mentions"], message["mention_roles"], message["mention_everyone"] = self._mentions(
            message["content"], allowed, replied
        )
        message["edited_timestamp"] = iso_now()
        self._edits.setdefault(message["id"], []).append((self.now(), copy.deepcopy(body)))
        return message

    def _as_seen_by_bot(self, message: dict) -> dict:
        """Without the Message Content intent Discord blanks content, embeds, attachments and components of guild
        messages, except the bot's own and those that mention it."""
        seen = copy.deepcopy(message)
        seen.pop("allowed_mentions", None)
        if seen.get("referenced_message"):
            seen["referenced_message"] = self._as_seen_by_bot(seen["referenced_message"])
        has_intent = self.intents is not None and bool(self.intents & MESSAGE_CONTENT_INTENT)
        mentions_bot = any(u["id"] == self.bot_user["id"] for u in seen["mentions"])
        if not (has_intent or mentions_bot or seen["author"]["id"] == self.bot_user["id"]):
            seen.update(content="", embeds=[], attachments=[], components=[])
            seen.pop("poll", None)
        return seen

    # --- gateway ---

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await self._send(ws, {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None})
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                await self._on_gateway_payload(ws, payload["op"], payload.get("d"))
        finally:
            self._sockets.discard(ws)
            for session in self._sessions.values():
                if session.ws is ws:
                    session.ws = None
        return ws

    async def _on_gateway_payload(self, ws: web.WebSocketResponse, op: int, data: Any) -> None:
        if op == 1:  # HEARTBEAT
            await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(ws, data)
        elif op == 6:
            await self._resume(ws, data)
        elif op == 8:  # REQUEST_GUILD_MEMBERS, only with the members intent
            chunk = {"guild_id": str(data.get("guild_id") or self.guild_id), "members": list(self._members.values()),
                     "chunk_index": 0,
                     "chunk_count": 1, "nonce": data.get("nonce")}
            await self._dispatch("GUILD_MEMBERS_CHUNK", chunk)

    async def _identify(self, ws: web.WebSocketResponse, data: dict) -> None:
        self.identify_payloads.append(data)
        intents = data.get("intents", 0)
        shard_id, shard_count = data.get("shard") or (0, 1)
        close_code = self.close_code_on_identify
        if close_code is None and data.get("token") != self.token:
            close_code = 4004  # Authentication failed
        if close_code is None and not 0 <= shard_id < shard_count:
            close_code = 4010  # Invalid shard
        if close_code is None and intents & MESSAGE_CONTENT_INTENT and not self.message_content_allowed:
            close_code = 4014  # Disallowed intent(s)
        if close_code is not None:
            await ws.close(code=close_code, message=b"closed by the fake on IDENTIFY")
            return
        self._ready.clear()
        self.identifies += 1
        self.intents = intents
        session = GatewaySession(shard_id, shard_count, secrets.token_hex(16), ws)
        self._sessions[shard_id] = session
        guild_ids = [g for g in self._guilds if session.owns(g)]
        ready = {
            "v": 10, "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": g, "unavailable": True} for g in guild_ids], "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,  # discord.py resumes here: it must not be the real gateway
            "application": {"id": self.app_id, "flags": 0}, "private_channels": [], "relationships": [],
            "shard": [shard_id, shard_count],
        }
        await self._dispatch_to(session, "READY", ready)
        for guild_id in guild_ids:
            await self._dispatch_to(session, "GUILD_CREATE", self._guild_payload(guild_id))
        session.ready = True
        self._ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: dict) -> None:
        session = next((s for s in self._sessions.values() if s.session_id and s.session_id == data.get("session_id")),
                       None)
        if session is None or data.get("token") != self.token:
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return
        self.resumes += 1
        session.ws = ws
        last_seen = data.get("seq") or 0
        for frame in list(session.events):  # what the bot missed while it was away
            if frame["s"] > last_seen:
                await self._send(ws, frame)
        session.seq += 1
        await self._send(ws, {"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})

    async def _send(self, ws: web.WebSocketResponse, payload: dict) -> bool:
        async with self._send_lock:
            if ws.closed:
                return False
            try:
                await ws.send_str(json.dumps(payload))
            except ConnectionError:
                return False
            return True

    async def _dispatch(self, event: str, data: dict) -> None:
        """Send a DISPATCH to the session of the shard that owns its guild (every guild event carries guild_id);
        while the bot is away it waits in the session log and is replayed on RESUME."""
        guild_id = data.get("guild_id")
        for session in list(self._sessions.values()):
            if session.owns(guild_id):
                await self._dispatch_to(session, event, data)

    async def _dispatch_to(self, session: GatewaySession, event: str, data: dict) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.events.append(frame)
        if session.ws is not None:
            await self._send(session.ws, frame)

    def _sessions_of(self, shard_id: int | None) -> list[GatewaySession]:
        return [s for i, s in self._sessions.items() if shard_id is None or i == shard_id]

    async def send_reconnect(self, shard_id: int | None = None) -> None:
        """Op 7 (to every shard by default): the bot closes the connection and RESUMEs at resume_gateway_url
        (resumes += 1)."""
        for session in self._sessions_of(shard_id):
            if session.ws is not None:
                await self._send(session.ws, {"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_session(self, resumable: bool = False, shard_id: int | None = None) -> None:
        """Op 9. Not resumable: the bot IDENTIFYs again (discord.py sleeps 5 s in before_identify_hook first)."""
        for session in self._sessions_of(shard_id):
            if not resumable:
                session.session_id = None
            if session.ws is not None:
                await self._send(session.ws, {"op": 9, "d": resumable, "s": None, "t": None})

    # --- events a person causes ---

    async def user_message(
        self,
        content: str,
        *,
        channel_id: str | None = None,
        author: dict | None = None,
        mention_bot: bool = False,
        reply_to: dict | None = None,
        author_is_bot: bool = False,
        webhook_id: str | None = None,
        reply_ping: bool = True,
        files: dict[str, bytes] | None = None,
    ) -> dict:
        """A person (or another bot, or a webhook) posts a message: MESSAGE_CREATE. Returns the full message; the
        bot receives it blanked as Discord would without the Message Content intent."""
        channel_id = channel_id or self.channel_id
        author = dict(author or (self.other_bot_user if author_is_bot else self.user))
        if author_is_bot:
            author["bot"] = True
        body: dict[str, Any] = {"content": f"<@{self.bot_user['id']}> {content}" if mention_bot else content}
        if webhook_id is not None:
            author = {"id": webhook_id, "username": "Captain Hook", "discriminator": "0000", "avatar": None,
                      "bot": True}
            body["webhook_id"] = webhook_id
        elif author["id"] not in self._members:
            self.add_member(author)
        if reply_to is not None:
            body["message_reference"] = {"message_id": reply_to["id"], "channel_id": reply_to["channel_id"]}
            if not reply_ping:
                body["allowed_mentions"] = {"parse": ["users", "roles", "everyone"], "replied_user": False}
        uploads = [{"name": name, "data": data} for name, data in (files or {}).items()]
        message = self._new_message(
            channel_id=channel_id, author=author, body=body, attachments=self._store_attachments(uploads)
        )
        message.pop("allowed_mentions", None)
        await self._dispatch("MESSAGE_CREATE", self._as_seen_by_bot(message))
        return copy.deepcopy(message)

    async def user_forum_post(self, title: str, content: str, *, author: dict | None = None) -> tuple[dict, dict]:
        """A person opens a forum post: THREAD_CREATE, then the starter message (same id as the thread)."""
        author = author or self.user
        thread = self._new_thread(self.forum_channel_id, title, owner_id=author["id"])
        await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        message = self._new_message(
            channel_id=thread["id"], author=author, body={"content": content}, attachments=[],
            message_id=thread["id"],
        )
        await self._dispatch("MESSAGE_CREATE", self._as_seen_by_bot(message))
        return copy.deepcopy(thread), copy.deepcopy(message)

    def _new_thread(self, parent_id: str, name: str, *, owner_id: str, thread_id: str | None = None,
                    thread_type: int = PUBLIC_THREAD, auto_archive_duration: int = 1440) -> dict:
        thread = {
            "id": thread_id or self._next_id(), "type": thread_type, "guild_id": self.guild_of(parent_id),
            "parent_id": parent_id, "owner_id": owner_id, "name": name, "last_message_id": None,
            "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "total_message_sent": 0, "flags": 0,
            "applied_tags": [], "thread_metadata": {
                "archived": False, "auto_archive_duration": auto_archive_duration, "archive_timestamp": iso_now(),
                "locked": False, "create_timestamp": iso_now(),
            },
        }
        self._channels[thread["id"]] = thread
        return thread

    @property
    def guild_commands(self) -> list[dict]:
        """The commands registered in the first guild (`guild_id`)."""
        return self.commands_by_guild.get(self.guild_id, [])

    def _command_named(self, name: str, guild_id: str | None = None) -> dict:
        for command in self.commands_by_guild.get(guild_id or self.guild_id, []) + self.global_commands:
            if command["name"] == name and command.get("type", 1) == 1:
                return command
        registered = [c["name"] for c in self.commands]
        raise LookupError(f"/{name} is not registered (registered: {registered}); did the bot sync its tree?")

    @property
    def commands(self) -> list[dict]:
        """Registered commands: the guild's first, then the global ones, as the last PUT of each stored them."""
        return copy.deepcopy(self.guild_commands + self.global_commands)

    def _command_options(
        self, command: dict, options: dict | None, subcommand: str | None, group: str | None, *, focused: str | None
    ) -> tuple[list[dict], dict]:
        definitions = command.get("options") or []
        path = [(group, 2), (subcommand, 1)]
        for name, option_type in path:
            if name is not None:
                definitions = _option_definition(definitions, name, option_type).get("options") or []
        resolved: dict[str, dict] = {}
        built = []
        for name, value in (options or {}).items():
            definition = _option_definition(definitions, name, None)
            option: dict[str, Any] = {"name": name, "type": definition["type"]}
            if isinstance(value, dict) and "id" in value:  # a user, channel, role or attachment object
                kind = {6: "users", 7: "channels", 8: "roles", 11: "attachments"}[definition["type"]]
                resolved.setdefault(kind, {})[value["id"]] = value
                if kind == "users" and value["id"] in self._members:
                    member = self._members[value["id"]]
                    resolved.setdefault("members", {})[value["id"]] = {
                        **{k: v for k, v in member.items() if k != "user"}, "permissions": str(EVERYONE_PERMISSIONS)
                    }
                if kind == "channels":
                    value.setdefault("permissions", str(EVERYONE_PERMISSIONS))
                value = value["id"]
            elif focused is None:
                value = _typed_value(definition["type"], value)
            option["value"] = value
            if name == focused:
                option["focused"] = True
            built.append(option)
        for name, option_type in reversed(path):
            if name is not None:
                built = [{"name": name, "type": option_type, "options": built}]
        return built, resolved

    def _interaction_payload(
        self, interaction_type: int, data: dict, *, user: dict | None, channel_id: str | None,
        member_permissions: str | None, message: dict | None = None,
    ) -> dict:
        user = user or self.user
        channel = self._channels[channel_id or self.channel_id]
        guild_id = channel["guild_id"]
        if member_permissions is None:
            member_permissions = str(ADMINISTRATOR if user["id"] == self.owner_user["id"] else EVERYONE_PERMISSIONS)
        payload = {
            "id": self._next_id(), "application_id": self.app_id, "type": interaction_type,
            "token": f"itok-{secrets.token_urlsafe(24)}", "version": 1, "guild_id": guild_id,
            "channel_id": channel["id"], "channel": copy.deepcopy(channel),
            "member": {**self._member_of(user), "user": user, "permissions": member_permissions},
            "app_permissions": str(EVERYONE_PERMISSIONS), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": guild_id}, "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024, "data": data,
        }
        if message is not None:
            payload["message"] = message
        return payload

    async def _start_interaction(self, payload: dict) -> FakeInteraction:
        interaction = FakeInteraction(self, payload, self.now())
        self.interactions.append(interaction)
        self._interactions[interaction.id] = interaction
        await self._dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def slash(
        self,
        name: str,
        options: dict | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        user: dict | None = None,
        channel_id: str | None = None,
        member_permissions: str | None = None,
    ) -> FakeInteraction:
        """A person runs a registered slash command. Option values are converted to the registered option types;
        pass a user/channel/role dict for those option types. member_permissions defaults to the member's roles
        (ADMINISTRATOR "8" for owner_user, the @everyone permissions for everyone else)."""
        command = self._command_named(name, self.guild_of(channel_id or self.channel_id))
        built, resolved = self._command_options(command, options, subcommand, group, focused=None)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": built}
        if resolved:
            data["resolved"] = resolved
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        payload = self._interaction_payload(
            APPLICATION_COMMAND, data, user=user, channel_id=channel_id, member_permissions=member_permissions
        )
        return await self._start_interaction(payload)

    async def autocomplete(
        self, name: str, options: dict, focused: str, *, subcommand: str | None = None, group: str | None = None,
        user: dict | None = None, channel_id: str | None = None, member_permissions: str | None = None,
    ) -> FakeInteraction:
        """A person types into option `focused`: values are sent as typed (strings). Choices: `.choices`."""
        command = self._command_named(name, self.guild_of(channel_id or self.channel_id))
        built, _ = self._command_options(command, options, subcommand, group, focused=focused)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": built}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        payload = self._interaction_payload(
            AUTOCOMPLETE, data, user=user, channel_id=channel_id, member_permissions=member_permissions
        )
        return await self._start_interaction(payload)

    async def click(
        self, message: dict, custom_id: str, *, values: list[str] | None = None, user: dict | None = None,
        member_permissions: str | None = None,
    ) -> FakeInteraction:
        """A person clicks a button (or, with `values`, picks from a string select) on a message."""
        current = self._messages.get(message["id"], message)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
        if values is not None:
            data["values"] = values
        payload = self._interaction_payload(
            MESSAGE_COMPONENT, data, user=user, channel_id=current["channel_id"],
            member_permissions=member_permissions, message=self._as_seen_by_bot(current),
        )
        return await self._start_interaction(payload)

    def rate_limit_next(self, method: str, path_pattern: str, retry_after: float = 0.3) -> None:
        """The next REST call matching method and glob pattern (e.g. "/channels/*/messages") gets a 429."""
        self._rate_limits.append((method.upper(), path_pattern, retry_after))

    # --- REST plumbing ---

    def _add_routes(self, app: web.Application) -> None:
        api = API_PREFIX
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._attachment)
        routes = [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{app_id}/commands", self._get_commands),
            ("PUT", "/applications/{app_id}/commands", self._put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._get_messages),
            ("POST", "/channels/{channel_id}/messages", self._post_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message),
            ("POST", "/channels/{channel_id}/typing", self._typing),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._add_reaction),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._remove_reaction),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self._thread_from_message),
            ("POST", "/channels/{channel_id}/threads", self._thread_without_message),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            ("POST", "/webhooks/{app_id}/{token}", self._followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._get_webhook_message),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self._patch_webhook_message),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self._delete_webhook_message),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, api + path, handler)

    @web.middleware
    async def _rest_middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        body, uploads = await _read_body(request)
        request[BODY], request[UPLOADS] = body, uploads
        recorded = Request(
            method=request.method, path=request.path[len(API_PREFIX):], query=dict(request.query), json=body,
            headers=dict(request.headers), at=self.now(),
            attachments=[
                {"name": u["name"], "size": len(u["data"]), "content_type": u["content_type"]} for u in uploads
            ],
        )
        self.requests.append(recorded)
        response = await self._answer(request, handler, recorded)
        recorded.status = response.status
        return response

    async def _answer(self, request: web.Request, handler: Callable, recorded: Request) -> web.StreamResponse:
        for index, (method, pattern, retry_after) in enumerate(self._rate_limits):
            if method == recorded.method and fnmatch.fnmatchcase(recorded.path, pattern):
                del self._rate_limits[index]
                return _rate_limited(retry_after)
        # interaction callbacks and webhooks authenticate with the token in the URL, not the bot token
        needs_auth = not recorded.path.startswith(("/interactions/", "/webhooks/"))
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        try:
            return await handler(request)
        except DiscordError as error:
            return json_response(error.body(), status=error.status)
        except web.HTTPNotFound:
            return json_response({"message": "404: Not Found", "code": 0}, status=404)
        except web.HTTPMethodNotAllowed:
            return json_response({"message": "405: Method Not Allowed", "code": 0}, status=405)

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self._files.get(request.match_info["attachment_id"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/octet-stream")

    # --- REST: login and commands ---

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response({**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0, "locale": "en-US"})

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response({
            "id": self.app_id, "name": self.bot_user["username"], "description": "Will it run?", "icon": None,
            "bot_public": False, "bot_require_code_grant": False, "owner": self.owner_user, "team": None,
            "verify_key": "0" * 64, "flags": 0, "bot": self.bot_user,
        })

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit})

    def _check_app(self, request: web.Request) -> str | None:
        if request.match_info["app_id"] != self.app_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is not None and guild_id not in self._guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return guild_id

    async def _get_commands(self, request: web.Request) -> web.Response:
        guild_id = self._check_app(request)
        return json_response(self.commands_by_guild.get(guild_id, []) if guild_id else self.global_commands)

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild_id = self._check_app(request)
        commands = request[BODY] or []
        errors = {str(i): e for i, command in enumerate(commands) if (e := command_errors(command))}
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body", errors)
        stored = []
        for command in commands:
            key = (guild_id, command.get("type", 1), command["name"])
            command_id = self._command_ids.setdefault(key, self._next_id())  # Discord keeps ids of kept commands
            registered = {**command, "id": command_id, "application_id": self.app_id, "version": self._next_id()}
            registered.setdefault("type", 1)
            registered.setdefault("options", [])
            registered.setdefault("default_member_permissions", None)
            if guild_id:
                registered["guild_id"] = guild_id
            stored.append(registered)
        if guild_id:
            self.commands_by_guild[guild_id] = stored
        else:
            self.global_commands = stored
        return json_response(stored)

    # --- REST: channels and messages ---

    def _channel(self, request: web.Request) -> dict:
        channel = self._channels.get(request.match_info["channel_id"])
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _channel_message(self, request: web.Request) -> dict:
        channel = self._channel(request)
        message = self._messages.get(request.match_info["message_id"])
        if message is None or message["channel_id"] != channel["id"] or message["flags"] & EPHEMERAL:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    async def _get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request))

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = int(request.query.get("limit", 50))
        before, after = request.query.get("before"), request.query.get("after")
        found = [
            m
            for m in self._messages.values()
            if m["channel_id"] == channel["id"]
            and not m["flags"] & EPHEMERAL
            and (before is None or int(m["id"]) < int(before))
            and (after is None or int(m["id"]) > int(after))
        ]
        newest_first = sorted(found, key=lambda m: int(m["id"]), reverse=True)[:limit]
        return json_response([self._as_seen_by_bot(m) for m in newest_first])

    async def _get_message(self, request: web.Request) -> web.Response:
        return json_response(self._as_seen_by_bot(self._channel_message(request)))

    async def _post_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        if channel["type"] == GUILD_FORUM:
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        body, uploads = request[BODY] or {}, request[UPLOADS]
        check_new_message(body, uploads)
        reference = body.get("message_reference")
        if reference and str(reference.get("message_id")) not in self._messages:
            if reference.get("fail_if_not_exists", True):
                raise DiscordError(400, 50035, "Invalid Form Body", {"message_reference": _error(
                    "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")})
            body = {k: v for k, v in body.items() if k != "message_reference"}
        message = self._new_message(
            channel_id=channel["id"], author=self.bot_user, body=body, attachments=self._store_attachments(uploads),

        )
        await self._dispatch("MESSAGE_CREATE", self._as_seen_by_bot(message))
        return json_response(message)

    async def _patch_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message["author"]["id"] != self.bot_user["id"]:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body = request[BODY] or {}
        check_message_edit(body)
        self._edit_message(message, body, request[UPLOADS])
        await self._dispatch("MESSAGE_UPDATE", self._as_seen_by_bot(message))
        return json_response(message)

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        del self._messages[message["id"]]
        deleted = {"id": message["id"], "channel_id": message["channel_id"], "guild_id": message["guild_id"]}
        await self._dispatch("MESSAGE_DELETE", deleted)
        return web.Response(status=204)

    async def _typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return web.Response(status=204)

    async def _add_reaction(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        emoji = request.match_info["emoji"]
        if emoji not in self._reactions.setdefault(message["id"], []):
            self._reactions[message["id"]].append(emoji)
        return web.Response(status=204)

    async def _remove_reaction(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        emoji = request.match_info["emoji"]
        if emoji in self._reactions.get(message["id"], []):
            self._reactions[message["id"]].remove(emoji)
        return web.Response(status=204)

    async def _thread_from_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        parent = self._channels[message["channel_id"]]
        if parent["type"] != GUILD_TEXT:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if message["id"] in self._channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        body = request[BODY] or {}
        thread = self._new_thread(
            parent["id"], body.get("name") or "thread", owner_id=self.bot_user["id"], thread_id=message["id"],
            auto_archive_duration=body.get("auto_archive_duration") or 1440,
        )  # a thread started from a message shares the message's id
        await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread)

    async def _thread_without_message(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        body = request[BODY] or {}
        if parent["type"] == GUILD_FORUM:  # a forum post: thread plus its starter message
            starter = body.get("message") or {}
            check_new_message(starter, request[UPLOADS], prefix="message")
            thread = self._new_thread(parent["id"], body.get("name") or "post", owner_id=self.bot_user["id"])
            await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
            message = self._new_message(
                channel_id=thread["id"], author=self.bot_user, body=starter, message_id=thread["id"],
                attachments=self._store_attachments(request[UPLOADS]),
            )
            await self._dispatch("MESSAGE_CREATE", self._as_seen_by_bot(message))
            return json_response({**thread, "message": message})
        thread = self._new_thread(
            parent["id"], body.get("name") or "thread", owner_id=self.bot_user["id"],
            thread_type=body.get("type") or PRIVATE_THREAD,
            auto_archive_duration=body.get("auto_archive_duration") or 1440,
        )
        await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread)

    # --- REST: interactions ---

    def _interaction_message(self, interaction: FakeInteraction, body: dict, uploads: list[dict]) -> dict:
        is_command = interaction.type == APPLICATION_COMMAND
        extra = {
            "webhook_id": self.app_id, "application_id": self.app_id,
            "interaction_metadata": {
                "id": interaction.id, "type": interaction.type, "user": interaction.payload["member"]["user"],
                "authorizing_integration_owners": {"0": interaction.payload["guild_id"]},
            },
        }
        message = self._new_message(
            channel_id=interaction.payload["channel_id"], author=self.bot_user, body=body,
            attachments=self._store_attachments(uploads), message_type=CHAT_INPUT_COMMAND if is_command else 0,
            extra=extra,
        )
        message.pop("member", None)
        return message

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self._interactions.get(request.match_info["interaction_id"])
        if interaction is None or interaction.token != request.match_info["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.callbacks:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if self.now() - interaction.dispatched_at > INITIAL_RESPONSE_WINDOW_S:
            raise DiscordError(404, 10062, "Unknown interaction")
        body = request[BODY] or {}
        kind, data = body.get("type"), body.get("data") or {}
        uploads = request[UPLOADS]
        if kind == 4:
            check_new_message(data, uploads, prefix="data")
        elif kind == 7:
            check_message_edit(data, prefix="data")
        elif kind == 8 and len(data.get("choices") or []) > AUTOCOMPLETE_CHOICES_LIMIT:
            raise DiscordError(400, 50035, "Invalid Form Body", {"data": {"choices": _too_long(25)}})
        if kind in (6, 7) and interaction.type != MESSAGE_COMPONENT:
            invalid = _error("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid for this interaction")
            raise DiscordError(400, 50035, "Invalid Form Body", {"type": invalid})
        interaction.callbacks.append(copy.deepcopy(body))
        message: dict | None = None
        if kind == 4:
            message = self._interaction_message(interaction, data, uploads)
        elif kind == 5:
            flags = LOADING | ((data.get("flags") or 0) & EPHEMERAL)
            message = self._interaction_message(interaction, {"content": "", "flags": flags}, [])
        elif kind in (6, 7):  # the message the component is on becomes the interaction's "original"
            message = self._messages.get(interaction.payload["message"]["id"])
            if kind == 7 and message is not None:
                self._edit_message(message, data, uploads)
                await self._dispatch("MESSAGE_UPDATE", self._as_seen_by_bot(message))
        if message is not None:
            interaction.original_id = message["id"]
        if kind in (4, 7):
            interaction.last_written_id = message["id"] if message else None
        if kind in (4, 5):
            await self._dispatch_visible("MESSAGE_CREATE", message)
        if kind not in (5, 6):
            interaction.answers += 1
        summary = {
            "id": interaction.id, "type": interaction.type, "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and message["flags"] & EPHEMERAL),
        }
        if message is not None:
            summary["response_message_id"] = message["id"]
        resource: dict[str, Any] = {"type": kind}
        if message is not None and kind in (4, 5, 7):
            resource["message"] = message
        return json_response({"interaction": summary, "resource": resource})

    def _webhook_interaction(self, request: web.Request) -> FakeInteraction:
        token = request.match_info["token"]
        interaction = next((i for i in self.interactions if i.token == token), None)
        if interaction is None or request.match_info["app_id"] != self.app_id:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if self.now() - interaction.dispatched_at > TOKEN_LIFETIME_S:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if not interaction.callbacks:  # the webhook exists only once the interaction is acknowledged
            raise DiscordError(404, 10015, "Unknown Webhook")
        return interaction

    def _webhook_message(self, interaction: FakeInteraction, message_id: str) -> dict:
        if message_id == "@original":
            message_id = interaction.original_id or ""
        elif message_id not in interaction.followup_ids and message_id != interaction.original_id:
            raise DiscordError(404, 10008, "Unknown Message")
        message = self._messages.get(message_id)
        if message is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        body, uploads = request[BODY] or {}, request[UPLOADS]
        check_new_message(body, uploads)
        original = self._messages.get(interaction.original_id or "")
        if original is not None and original["flags"] & LOADING:
            # the first followup after a "thinking" defer replaces the loading message, keeping the defer's
            # ephemeral choice; it is the original response, not a followup
            message = self._edit_message(original, {**body, "flags": body.get("flags") or 0}, uploads)
            await self._dispatch_visible("MESSAGE_UPDATE", message)
        else:
            message = self._interaction_message(interaction, body, uploads)
            interaction.followup_ids.append(message["id"])
            await self._dispatch_visible("MESSAGE_CREATE", message)
        interaction.last_written_id = message["id"]
        interaction.answers += 1
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(message)
        return web.Response(status=204)

    async def _dispatch_visible(self, event: str, message: dict) -> None:
        if not message["flags"] & EPHEMERAL:
            await self._dispatch(event, self._as_seen_by_bot(message))

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        return json_response(self._webhook_message(interaction, request.match_info["message_id"]))

    async def _patch_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        message = self._webhook_message(interaction, request.match_info["message_id"])
        body = request[BODY] or {}
        check_message_edit(body)
        self._edit_message(message, body, request[UPLOADS])
        interaction.last_written_id = message["id"]
        interaction.answers += 1
        await self._dispatch_visible("MESSAGE_UPDATE", message)
        return json_response(message)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        message = self._webhook_message(interaction, request.match_info["message_id"])
        del self._messages[message["id"]]
        if not message["flags"] & EPHEMERAL:
            deleted = {"id": message["id"], "channel_id": message["channel_id"], "guild_id": message["guild_id"]}
            await self._dispatch("MESSAGE_DELETE", deleted)
        return web.Response(status=204)


def _option_definition(definitions: list[dict], name: str, option_type: int | None) -> dict:
    for definition in definitions:
        if definition["name"] == name and (option_type is None or definition["type"] == option_type):
            return definition
    known = [d["name"] for d in definitions]
    raise LookupError(f"no option {name!r} in the registered command (it has {known})")


def _typed_value(option_type: int, value: Any) -> Any:
    if option_type == 4:
        return int(value)
    if option_type == 10:
        return float(value)
    if option_type == 5:
        return bool(value)
    return value


def _rate_limited(retry_after: float) -> web.Response:
    # discord.py retries a 429 only if it carries a Via header (otherwise it assumes a Cloudflare ban)
    headers = {
        "Via": "1.1 google", "Retry-After": str(max(1, round(retry_after))), "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(retry_after), "X-RateLimit-Bucket": "fake-bucket",
        "X-RateLimit-Scope": "user",
    }
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    return json_response(body, status=429, headers=headers)


async def _read_body(request: web.Request) -> tuple[Any, list[dict]]:
    """The JSON body, or `payload_json` and the files of a multipart body."""
    if not request.body_exists:
        return None, []
    if request.content_type.startswith("multipart/"):
        payload, uploads = None, []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            elif part.filename:
                data = bytes(await part.read())
                uploads.append({"name": part.filename, "data": data, "content_type": part.headers.get("Content-Type")})
        return payload, uploads
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []
