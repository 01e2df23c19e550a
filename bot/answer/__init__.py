"""Answering: question in, Answer out (bot.answer.pipeline), with the prompt, the drafts from entries and the
guard that decides what model text may be shown."""
