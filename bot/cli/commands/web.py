"""`willitrun web`: the web page and HTTP API (bot/web) under uvicorn, on WEB_HOST:WEB_PORT with WEB_WORKERS
processes. One worker is served from the core built here; more workers each import the app factory and build their
own core (uvicorn can only start workers from an import string)."""
from __future__ import annotations

import argparse

from bot.settings import Settings

FACTORY = "bot.web.app:create_app_from_settings"


def add_parser(sub: argparse._SubParsersAction) -> None:
    web = sub.add_parser("web", help="serve the web page and the HTTP API (/api/v1)")
    web.add_argument("--host", help="address to listen on (default: WEB_HOST, 127.0.0.1)")
    web.add_argument("--port", type=int, help="port (default: WEB_PORT, 8000)")
    web.add_argument("--workers", type=int, help="worker processes (default: WEB_WORKERS, 1)")
    # the core is built here for one worker, in each worker otherwise
    web.set_defaults(func=run, uses_core=False)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn  # the web stack loads only for this command

    workers = args.workers or settings.web_workers
    options = dict(host=args.host or settings.web_host, port=args.port or settings.web_port,
                   proxy_headers=True, forwarded_allow_ips=settings.web_forwarded_allow_ips,
                   access_log=settings.web_access_log, timeout_graceful_shutdown=10)
    if workers > 1:
        uvicorn.run(FACTORY, factory=True, workers=workers, **options)
    else:
        from bot.core import open_core
        from bot.web.app import create_app

        uvicorn.run(create_app(open_core(settings)), **options)
    return 0
