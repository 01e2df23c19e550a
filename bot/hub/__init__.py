"""Hugging Face look-ups for models no catalog has: a repo's config.json (architecture -> a catalog Model), or the
header of one of its GGUF files read by HTTP Range requests (exact tensor types and sizes), cached in the data
directory. `HubClient.lookup(name_or_repo, quant)` is the one entry point; `Core.hub` holds the client."""
from bot.hub.client import HubClient
from bot.hub.errors import HubAccessError, HubError, HubFileError, HubNotFoundError, HubUnavailableError
from bot.hub.schema import HubResult

__all__ = ["HubAccessError", "HubClient", "HubError", "HubFileError", "HubNotFoundError", "HubResult",
           "HubUnavailableError"]
