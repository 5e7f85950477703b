"""The console's ASGI app: sessions, security headers, static assets and the pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from regpipe.console.auth import SignIn
from regpipe.console.context import ConsoleContext, NotSignedIn, render, require_role
from regpipe.console.errors import SourceNotFoundError, SourceRefusedError, SourceUnavailableError
from regpipe.console.headers import SecurityHeaders
from regpipe.console.pages import actions, deliveries, domains, operations, pipeline, session
from regpipe.console.sources import Sources

__all__ = ["ConsoleConfig", "create_console_app"]

_SESSION_HOURS = 8


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """How the console signs people in and sets its cookie."""

    session_secret: str
    viewer_tokens: tuple[str, ...]
    operator_tokens: tuple[str, ...]
    secure_cookies: bool = True  # off only for plain-HTTP local use (the demo)


def create_console_app(config: ConsoleConfig, sources: Sources) -> FastAPI:
    """The console, reading from `sources`."""
    app = FastAPI(title="regpipe console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = ConsoleContext(SignIn(config.viewer_tokens, config.operator_tokens), sources)
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.session_secret,
        session_cookie="regpipe_console",
        max_age=_SESSION_HOURS * 3600,
        same_site="strict",
        https_only=config.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.include_router(session.router)
    app.include_router(pipeline.router)
    app.include_router(domains.router)
    app.include_router(operations.router)
    app.include_router(deliveries.router)
    app.include_router(actions.router)

    @app.get("/")
    async def home(request: Request) -> Response:
        require_role(request)
        return RedirectResponse("/pipeline", status_code=status.HTTP_303_SEE_OTHER)

    @app.exception_handler(NotSignedIn)
    async def to_sign_in(_: Request, __: NotSignedIn) -> Response:
        return RedirectResponse("/signin", status_code=status.HTTP_303_SEE_OTHER)

    @app.exception_handler(SourceNotFoundError)
    async def not_found(request: Request, exc: SourceNotFoundError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(SourceRefusedError)
    async def refused(request: Request, exc: SourceRefusedError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)

    @app.exception_handler(SourceUnavailableError)
    async def unavailable(request: Request, exc: SourceUnavailableError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=status.HTTP_502_BAD_GATEWAY)

    return app
