"""Who may sign in, and as what: two roles, viewer (read only) and operator (actions too)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from regpipe.runtime.tokens import TokenSet

__all__ = ["Role", "SignIn"]


class Role(StrEnum):
    """What a signed-in person may do."""

    VIEWER = "viewer"
    OPERATOR = "operator"


class SignIn:
    """Checks a presented sign-in token against the configured viewer and operator tokens (constant time)."""

    def __init__(self, viewer_tokens: Sequence[str], operator_tokens: Sequence[str]) -> None:
        self._viewers = TokenSet(viewer_tokens) if viewer_tokens else None
        self._operators = TokenSet(operator_tokens) if operator_tokens else None

    def role_of(self, presented: str) -> Role | None:
        """The role the token grants, or None."""
        # Both sets are always consulted so the answer time does not tell which one matched.
        operator = self._operators is not None and presented in self._operators
        viewer = self._viewers is not None and presented in self._viewers
        if operator:
            return Role.OPERATOR
        if viewer:
            return Role.VIEWER
        return None
