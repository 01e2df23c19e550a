"""Interaction timing shared by the command tree and the buttons: Discord invalidates an interaction 3 s after it
was created; one older than MAX_INTERACTION_AGE_S when it reaches us cannot be answered in time, and answering it
anyway earns a 404 (BallsDex drops them the same way)."""
from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)
MAX_INTERACTION_AGE_S = 2.8


def interaction_age(interaction: discord.Interaction) -> float:
    """Seconds since Discord created the interaction (from its snowflake id)."""
    return (discord.utils.utcnow() - interaction.created_at).total_seconds()


def too_late(interaction: discord.Interaction) -> bool:
    if interaction_age(interaction) > MAX_INTERACTION_AGE_S:
        log.warning("dropped interaction %s: it arrived %.1f s after it was created", interaction.id,
                    interaction_age(interaction))
        return True
    return False
