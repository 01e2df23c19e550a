"""Operations: health checks, the invite URL, metrics and logs for a self-hosted bot. No discord import at module
level (the invite URL imports it when asked for); nothing here answers questions."""
