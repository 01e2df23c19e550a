"""`willitrun`: the command-line adapter (bot.cli.main). Every query command has --json printing the same pydantic
models the bot renders, and --stdin for many requests in one process."""
