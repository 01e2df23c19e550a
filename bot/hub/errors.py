"""Why a Hugging Face look-up gave no model, in one line a person can act on. The token never appears in them."""
from bot.errors import WillItRunError


class HubError(WillItRunError):
    """A look-up on the Hugging Face Hub failed."""


class HubNotFoundError(HubError):
    """No such repo, revision or file (404)."""


class HubAccessError(HubError):
    """A private or gated repo this token cannot read (401 / 403)."""


class HubUnavailableError(HubError):
    """The Hub did not answer in time, or answered with a server error."""


class HubFileError(HubError):
    """A file that is malformed, truncated, or larger than the look-up may read."""
