"""Small helpers several test modules share."""
import dataclasses

from bot.core import Core


def core_with(core: Core, backend=None, **settings) -> Core:
    """`core` with another language model (None: off) or settings, sharing its loaded retriever."""
    changed = core.settings.model_copy(update=settings) if settings else core.settings
    return dataclasses.replace(core, settings=changed, backend=backend, retriever_given=core.retriever)


# a knowledge entry for a made-up term: once it is added and the core reloaded, the router knows the word
NEW_ENTRY = """---
id: zorbix-cache
title: Zorbix cache
aliases: ["zorbix"]
category: concepts
summary: >-
  A made-up term for this test: once the knowledge base has an entry for it, the router knows the word.
related: []
sources:
  - title: llama.cpp
    url: https://github.com/ggml-org/llama.cpp
updated: 2026-12-04
---

## Definition
A zorbix cache is a made-up thing.

## Deeper dive
Nothing more to say.

## Practical example
None.

## Workflow example
None.
"""
