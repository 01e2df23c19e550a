"""The web adapter: an HTTP API (`/api/v1/...`, the same pydantic models the CLI prints with `--json`) and
server-rendered pages with permalinks, both over one Core (`bot.web.app.create_app`)."""
