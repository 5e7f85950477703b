"""Data model of bulk-task events (Most `task.completed`): the task with its per-item results, secrets removed."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from regpipe.contract.events.base import DomainName, EventData, ProviderError, ProviderFields, known_values

__all__ = ["TaskCompleted", "TaskItem"]


class TaskItem(BaseModel):
    """The result of one item (one domain) of a bulk task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: DomainName | None = Field(default=None, description="Domain name (IDNA, lower case).")
    ok: bool = Field(description="Whether this item succeeded.")
    data: ProviderFields = Field(
        default_factory=dict, description="The item's result data as the provider sent it, secrets removed."
    )
    error: ProviderError | None = Field(default=None, description="Why this item failed.")
    secret_withheld: bool = Field(default=False, description="True when a secret (an EPP auth code) was removed.")
    provider_fields: ProviderFields = Field(
        default_factory=dict, description="Fields of the item not modelled above, kept verbatim."
    )


class TaskCompleted(EventData):
    """Emitted when a bulk task finished, whatever its result; one per-domain event per item is emitted too
    (see docs/taxonomy.md)."""

    task_id: str = Field(min_length=1, description="The provider's task id.")
    task_type: str = known_values(
        ["domain.renew", "domain.set_nameservers", "domain.get_auth_info"], "The bulk operation.", default=...
    )
    status: str = known_values(
        ["COMPLETED", "PARTIAL", "FAILED"],
        "COMPLETED: every item succeeded; PARTIAL: some failed; FAILED: all failed or the task failed early.",
        default=...,
    )
    created_at: AwareDatetime | None = Field(default=None, description="When the task was created.")
    completed_at: AwareDatetime | None = Field(default=None, description="When the task finished.")
    items: list[TaskItem] = Field(default_factory=list, description="Per-item results, in the provider's order.")
    succeeded_count: int = Field(default=0, ge=0, description="Items with ok = true.")
    failed_count: int = Field(default=0, ge=0, description="Items with ok = false.")
