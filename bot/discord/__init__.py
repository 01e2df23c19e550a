"""The Discord adapter: slash commands, channel questions, buttons and rendering on top of the core (bot.answer).

`render`, `splitting`, `limits`, `store` and `streaming` do not import discord, so the terminal console can print
exactly what the bot would post. `willitrun run` starts the bot through `run.run_bot` when DISCORD_TOKEN is set.
"""
