"""The OpenAPI description of the webhook routes, which the lean endpoint serves outside FastAPI's router, merged
into the FastAPI document of the receiver's other routes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI

from regpipe.webhooks.answers import AcceptedAnswer, ErrorAnswer
from regpipe.webhooks.endpoint import PATH_PREFIX
from regpipe.webhooks.route import ProviderRoute

__all__ = ["ReceiverDocs"]

_REF = "#/components/schemas/{model}"
_REFUSALS = {
    "400": "Unreadable: wrong content type, encoding or charset, or an empty body.",
    "401": "Not authenticated (missing or wrong signature or token, stale timestamp); never published.",
    "404": "No such provider route.",
    "405": "Not a POST.",
    "408": "The body did not arrive in full within the configured time.",
    "413": "The body is larger than the configured maximum.",
    "503": "Kafka did not acknowledge the record, or too many bodies are being received: send it again after "
    "`Retry-After` seconds.",
}


def _operation(providers: Sequence[str], with_token: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": "provider", "in": "path", "required": True, "schema": {"type": "string", "enum": list(providers)}},
    ]
    if with_token:
        parameters.insert(1, {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}})
    error = {"application/json": {"schema": {"$ref": _REF.format(model=ErrorAnswer.__name__)}}}
    responses: dict[str, Any] = {
        "202": {
            "description": "The exact body is on registrar.raw.v1, acknowledged by Kafka.",
            "content": {"application/json": {"schema": {"$ref": _REF.format(model=AcceptedAnswer.__name__)}}},
        },
        **{status: {"description": text, "content": error} for status, text in _REFUSALS.items()},
    }
    responses["503"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
    return {
        "summary": "Receive a provider webhook" + (" (token in the path)" if with_token else ""),
        "operationId": "receive_webhook_with_path_token" if with_token else "receive_webhook",
        "parameters": parameters,
        "requestBody": {
            "required": True,
            "description": "The provider's event, published byte for byte to registrar.raw.v1.",
            "content": {"application/json": {"schema": {}}},
        },
        "responses": responses,
    }


class ReceiverDocs(FastAPI):
    """The receiver's FastAPI app (documentation and any non-webhook route), whose OpenAPI document also
    describes the webhook routes of `routes`."""

    def __init__(self, routes: Mapping[str, ProviderRoute], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._providers = sorted(routes)
        self._token_providers = sorted(name for name, route in routes.items() if route.authenticator.uses_path_token)

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document plus the webhook routes and their answer schemas."""
        if self.openapi_schema is None:
            document = super().openapi()
            document.setdefault("paths", {})[PATH_PREFIX + "{provider}"] = {"post": _operation(self._providers, False)}
            if self._token_providers:
                document["paths"][PATH_PREFIX + "{provider}/{token}"] = {
                    "post": _operation(self._token_providers, True)
                }
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in (AcceptedAnswer, ErrorAnswer):
                schemas[model.__name__] = model.model_json_schema(ref_template=_REF)
            self.openapi_schema = document
        return self.openapi_schema
