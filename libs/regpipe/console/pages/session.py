"""Signing in with a token (a session cookie follows) and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from regpipe.console.context import context_of, render
from regpipe.console.csrf import csrf_valid

__all__ = ["router"]

router = APIRouter()


@router.get("/signin")
async def sign_in_page(request: Request) -> Response:
    return render(request, "signin.html", {"error": None})


@router.post("/signin")
async def sign_in(
    request: Request, token: Annotated[str, Form(max_length=512)], csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    # The sign-in form carries the anonymous session's CSRF token too (no login CSRF).
    if not csrf_valid(request.session, csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form's CSRF token is missing or wrong")
    role = context_of(request).sign_in.role_of(token)
    if role is None:
        return render(request, "signin.html", {"error": "That token is not valid."}, status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) after sign-in: no session fixation
    request.session["role"] = role.value
    return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/signout")
async def sign_out(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    if csrf_valid(request.session, csrf):
        request.session.clear()
    return RedirectResponse("/signin", status_code=status.HTTP_303_SEE_OTHER)
