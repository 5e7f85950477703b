"""Operator actions on deliveries: each a confirmation page (GET, saying how many deliveries it will make) and the
action itself (POST with the session's CSRF token). Both need the operator role; a viewer gets 403."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from regpipe.console.context import context_of, flash, render, require_action, require_operator
from regpipe.console.errors import SourceRefusedError
from regpipe.console.pages.operations import parse_time

__all__ = ["router"]

router = APIRouter(prefix="/actions")

_Csrf = Annotated[str, Form(max_length=128)]
_TimeField = Annotated[str, Form(max_length=40)]


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


def _confirm(request: Request, *, title: str, question: str, action: str, fields: dict[str, str]) -> Response:
    return render(request, "confirm.html", {"title": title, "question": question, "action": action, "fields": fields})


def _endpoint_id(text: str) -> uuid.UUID | None:
    """An optional endpoint id from a form or query ('' for every endpoint)."""
    try:
        return uuid.UUID(text) if text else None
    except ValueError as exc:
        raise SourceRefusedError("not an endpoint id") from exc


def _deliveries(count: int) -> str:
    return f"{count} deliver{'y' if count == 1 else 'ies'}"


@router.get("/endpoints/{subscription_id}/redeliver-event/{event_id}")
async def confirm_redeliver_event(request: Request, subscription_id: uuid.UUID, event_id: uuid.UUID) -> Response:
    require_operator(request)
    preview = await context_of(request).sources.delivery.preview_event(subscription_id, event_id)
    question = f"Redeliver event {event_id} to this endpoint: this makes {_deliveries(preview.would_schedule)}."
    action = f"/actions/endpoints/{subscription_id}/redeliver-event/{event_id}"
    return _confirm(request, title="Redeliver an event", question=question, action=action, fields={})


@router.post("/endpoints/{subscription_id}/redeliver-event/{event_id}")
async def redeliver_event(
    request: Request, subscription_id: uuid.UUID, event_id: uuid.UUID, csrf: _Csrf = ""
) -> Response:
    require_action(request, csrf)
    report = await context_of(request).sources.delivery.redeliver_event(subscription_id, event_id)
    flash(request, f"Scheduled {_deliveries(report.scheduled)} of event {event_id}.")
    return _back(f"/deliveries/events/{event_id}")


@router.get("/endpoints/{subscription_id}/redeliver-range")
async def confirm_redeliver_range(
    request: Request, subscription_id: uuid.UUID, since: str = "", until: str = ""
) -> Response:
    require_operator(request)
    start, end = parse_time(since), parse_time(until)
    if start is None or end is None:
        return render(request, "error.html", {"message": "a range needs both times"}, status_code=400)
    preview = await context_of(request).sources.delivery.preview_range(subscription_id, start, end)
    question = (
        f"Redeliver every event from {start.isoformat()} to {end.isoformat()} that this endpoint subscribes to: "
        f"this makes {_deliveries(preview.would_schedule)}."
    )
    action = f"/actions/endpoints/{subscription_id}/redeliver-range"
    fields = {"since": start.isoformat(), "until": end.isoformat()}
    return _confirm(request, title="Redeliver a time range", question=question, action=action, fields=fields)


@router.post("/endpoints/{subscription_id}/redeliver-range")
async def redeliver_range(
    request: Request, subscription_id: uuid.UUID, csrf: _Csrf = "", since: _TimeField = "", until: _TimeField = ""
) -> Response:
    require_action(request, csrf)
    start, end = parse_time(since), parse_time(until)
    if start is None or end is None:
        return render(request, "error.html", {"message": "a range needs both times"}, status_code=400)
    report = await context_of(request).sources.delivery.redeliver_range(subscription_id, start, end)
    flash(request, f"Scheduled {_deliveries(report.scheduled)}.")
    return _back(f"/deliveries/endpoints/{subscription_id}")


@router.get("/redeliver-failed")
async def confirm_redeliver_failed(request: Request, since: str = "", subscription_id: str = "") -> Response:
    require_operator(request)
    start = parse_time(since)
    if start is None:
        return render(request, "error.html", {"message": "give the time since when"}, status_code=400)
    endpoint = _endpoint_id(subscription_id)
    preview = await context_of(request).sources.delivery.preview_failed(start, endpoint)
    scope = "this endpoint" if endpoint else "every endpoint"
    question = (
        f"Redeliver every delivery to {scope} that failed for good since {start.isoformat()}: "
        f"this makes {_deliveries(preview.would_schedule)}."
    )
    fields = {"since": start.isoformat(), "subscription_id": subscription_id}
    return _confirm(
        request,
        title="Redeliver failed deliveries",
        question=question,
        action="/actions/redeliver-failed",
        fields=fields,
    )


@router.post("/redeliver-failed")
async def redeliver_failed(
    request: Request,
    csrf: _Csrf = "",
    since: _TimeField = "",
    subscription_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    require_action(request, csrf)
    start = parse_time(since)
    if start is None:
        return render(request, "error.html", {"message": "give the time since when"}, status_code=400)
    endpoint = _endpoint_id(subscription_id)
    report = await context_of(request).sources.delivery.redeliver_failed(start, endpoint)
    flash(request, f"Scheduled {_deliveries(report.scheduled)}.")
    return _back("/deliveries")


# Last: `{verb}` would otherwise take the paths of the redelivery routes above.
@router.get("/endpoints/{subscription_id}/{verb}")
async def confirm_endpoint_change(request: Request, subscription_id: uuid.UUID, verb: str) -> Response:
    require_operator(request)
    endpoint = await context_of(request).sources.delivery.endpoint(subscription_id)
    questions = {
        "enable": f"Enable {endpoint.url}? Its waiting deliveries resume.",
        "disable": f"Disable {endpoint.url}? Its deliveries wait until it is enabled again.",
        "rotate-secret": f"Rotate the signing secret of {endpoint.url}? The new secret is shown once; the current one "
        "keeps signing for 24 hours beside it.",
    }
    if verb not in questions:
        return render(request, "error.html", {"message": "no such action"}, status_code=404)
    action = f"/actions/endpoints/{subscription_id}/{verb}"
    return _confirm(
        request, title=verb.replace("-", " ").capitalize(), question=questions[verb], action=action, fields={}
    )


@router.post("/endpoints/{subscription_id}/{verb}")
async def change_endpoint(request: Request, subscription_id: uuid.UUID, verb: str, csrf: _Csrf = "") -> Response:
    require_action(request, csrf)
    delivery = context_of(request).sources.delivery
    if verb == "rotate-secret":
        rotated = await delivery.rotate_secret(subscription_id)
        return render(request, "secret.html", {"rotation": rotated})
    if verb not in ("enable", "disable"):
        return render(request, "error.html", {"message": "no such action"}, status_code=404)
    changed = await delivery.set_enabled(subscription_id, verb == "enable")
    flash(request, f"{changed.url} is now {'enabled' if changed.enabled else 'disabled'}.")
    return _back(f"/deliveries/endpoints/{subscription_id}")
