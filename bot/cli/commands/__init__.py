"""One module per `willitrun` command: `add_parser(sub)` registers it, `run(args, core)` (or `run(args,
settings)` for the commands that check or report on an installation rather than answer) carries it out."""
