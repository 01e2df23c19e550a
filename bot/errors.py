"""Errors a user can hit, each with a message they can act on. Adapters render them; the core only raises."""
from bot.text import echo


class WillItRunError(Exception):
    """Base class: the message is written for the person who asked."""


class UnknownNameError(WillItRunError):
    """A model, GPU, quantization or entry name that is not in the catalog."""

    def __init__(self, kind: str, name: str, suggestions: list[str]):
        self.kind = kind
        self.name = name
        self.suggestions = suggestions
        hint = f" Closest known: {', '.join(suggestions)}." if suggestions else ""
        # the name is quoted back cut short and escaped: a 3,000-character name would make the reply too long
        # for Discord, and its Markdown or mentions would render
        super().__init__(f"Unknown {kind} '{echo(name)}'.{hint}")


class InvalidRequestError(WillItRunError):
    """Options that are out of range or contradict each other."""


class CatalogError(WillItRunError):
    """A catalog or knowledge file that does not validate; names the file and the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def validation_message(errors: list[dict]) -> str:
    """pydantic's validation errors (`exc.errors()`) as one line a person can act on; the CLI and the web API word
    them alike."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in errors)
