"""The JSON bodies the receiver answers with; also the schemas its OpenAPI document shows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AcceptedAnswer", "ErrorAnswer"]


class AcceptedAnswer(BaseModel):
    """202: the exact body is on `registrar.raw.v1`, acknowledged by every in-sync replica."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["accepted"] = "accepted"
    partition: int = Field(description="Partition of the raw record.")
    offset: int = Field(description="Offset of the raw record in its partition.")


class ErrorAnswer(BaseModel):
    """Any refusal: a machine-readable `error` code and a sentence for people. Never quotes the body or a secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error: str = Field(description="Machine-readable reason, e.g. `invalid_signature`, `body_too_large`.")
    message: str = Field(description="What was wrong, for the person reading the provider's delivery log.")
