"""What every page handler needs: the templates, the signed-in role, and the data sources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from regpipe.console.auth import Role, SignIn
from regpipe.console.csrf import csrf_token, csrf_valid
from regpipe.console.sources import Sources

__all__ = [
    "ConsoleContext",
    "NotSignedIn",
    "context_of",
    "flash",
    "render",
    "require_action",
    "require_operator",
    "require_role",
]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class NotSignedIn(Exception):  # noqa: N818  # control flow, answered with a redirect to the sign-in page
    """The request needs a signed-in session."""


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    """Shared by every page of one console app."""

    sign_in: SignIn
    sources: Sources


def context_of(request: Request) -> ConsoleContext:
    """The console context of the app serving `request`."""
    context: ConsoleContext = request.app.state.console
    return context


def require_role(request: Request) -> Role:
    """The signed-in role; a request without a session is sent to the sign-in page."""
    role = request.session.get("role")
    if role not in (Role.VIEWER.value, Role.OPERATOR.value):
        raise NotSignedIn
    return Role(role)


def require_operator(request: Request) -> None:
    """The operator role (an action's confirmation page too); otherwise 403."""
    if require_role(request) is not Role.OPERATOR:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this action needs the operator role")


def require_action(request: Request, presented_csrf: str | None) -> None:
    """An action needs the operator role and the session's CSRF token; otherwise 403."""
    require_operator(request)
    if not csrf_valid(request.session, presented_csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form's CSRF token is missing or wrong")


def flash(request: Request, message: str) -> None:
    """A one-time notice shown on the next page (what an action did)."""
    request.session["flash"] = message


def render(request: Request, template: str, values: dict[str, Any], *, status_code: int = 200) -> Response:
    """A page, with the role, the CSRF token and any pending notice every layout needs."""
    role = request.session.get("role")
    notice = request.session.pop("flash", None)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            **values,
            "role": role,
            "is_operator": role == Role.OPERATOR.value,
            "csrf": csrf_token(request.session),
            "notice": notice,
        },
        status_code=status_code,
    )
