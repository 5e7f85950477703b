"""Entry point: `regpipe-imap-parser` or `python -m regpipe.services.imap_parser`."""

from __future__ import annotations

import asyncio

from regpipe.imap.errors import ImapAuthError, ImapConfigError
from regpipe.observability.logging import configure_logging, get_logger
from regpipe.services.imap_parser.app import SERVICE, run
from regpipe.services.imap_parser.settings import ImapParserSettings

#: Exit status when retrying cannot help (wrong credentials or settings), distinct from a crash (1).
EXIT_MISCONFIGURED = 2


def main() -> None:
    """Read settings from the environment and run until stopped."""
    settings = ImapParserSettings()
    configure_logging(SERVICE, settings.log_level)
    try:
        asyncio.run(run(settings))
    except (ImapAuthError, ImapConfigError) as error:
        get_logger(__name__).error("imap parser cannot run: fix its settings", error=str(error))
        raise SystemExit(EXIT_MISCONFIGURED) from error


if __name__ == "__main__":
    main()
