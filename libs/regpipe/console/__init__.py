"""The operator console: a web page over the read model, the delivery admin API and the pipeline's metrics.

Server-rendered (Jinja2, autoescaped) with a little JavaScript served from `static/`; no build step, no CDN.
It reads through the other services' HTTP APIs (never their tables) and `regpipe.monitor`.
"""

from regpipe.console.app import ConsoleConfig, create_console_app
from regpipe.console.auth import Role

__all__ = ["ConsoleConfig", "Role", "create_console_app"]
