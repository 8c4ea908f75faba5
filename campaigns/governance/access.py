"""Roles and permissions: who may do what, resolved from a role directory, never claimed by a caller.

Callers name the acting user only; `resolve_actor` looks the role up in the directory the service was
built with (a roles file today), so no page or command can claim a role it was not given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from campaigns.campaign_errors import PermissionDenied
from campaigns.definitions.roles_file import ROLES

# Which roles may do what. Analysts read; marketers author and send; compliance approves; admin all.
PERMISSIONS: dict[str, frozenset[str]] = {
    "template.submit": frozenset({"marketer", "admin"}),
    "template.approve": frozenset({"compliance", "admin"}),
    "template.reject": frozenset({"compliance", "admin"}),
    "template.list": frozenset(ROLES),
    "template.lint": frozenset(ROLES),
    "template.show": frozenset(ROLES),
    "campaign.plan": frozenset({"marketer", "compliance", "admin", "analyst"}),
    "campaign.launch": frozenset({"marketer", "admin"}),
    "campaign.resend_unknown": frozenset({"admin"}),
    "campaign.retry_failed": frozenset({"admin"}),
    "campaign.reconcile": frozenset({"marketer", "admin"}),
    "campaign.status": frozenset(ROLES),
    "webhook.ingest": frozenset({"admin", "marketer", "compliance"}),
    # Campaigns drafted in the console (kept in the store until planned and launched).
    "campaign.draft": frozenset({"marketer", "admin"}),
    # Why one person was or was not sent a campaign; contact details only for the second permission.
    "recipient.explain": frozenset({"marketer", "compliance", "admin"}),
    "recipient.contact": frozenset({"compliance", "admin"}),
    "audit.read": frozenset({"compliance", "admin"}),
    # The dashboards (aggregates only, small groups suppressed).
    "dashboard.view": frozenset(ROLES),
    "account.manage": frozenset({"admin"}),
}


class RoleDirectory(Protocol):
    """Where roles come from: `role_of(user)` is the user's role, or None for someone without one."""

    def role_of(self, user: str) -> str | None: ...


@dataclass(frozen=True)
class Actor:
    """A user together with the role the directory gave them."""

    user: str
    role: str


def resolve_actor(user: str | None, roles: RoleDirectory) -> Actor:
    """The acting user with their role; an unknown or missing user has no rights (fail closed)."""
    if not user:
        raise PermissionDenied("no acting user: set FINGROWTH_USER")
    role = roles.role_of(user)
    if role is None:
        raise PermissionDenied(f"user {user!r} has no role (not in the roles file, or a disabled account)")
    if role not in ROLES:
        raise PermissionDenied(f"user {user!r} has unknown role {role!r}")
    return Actor(user, role)


def require(actor: Actor, action: str) -> None:
    """Refuse unless the actor's role may perform `action`."""
    if actor.role not in PERMISSIONS[action]:
        raise PermissionDenied(f"{actor.user} ({actor.role}) may not {action}; allowed roles: {sorted(PERMISSIONS[action])}")


def may(actor: Actor, action: str) -> bool:
    """Whether the actor's role may perform `action` (no audit: for showing or hiding what a page offers)."""
    return actor.role in PERMISSIONS[action]


class StaticRoles:
    """A fixed role directory (user → role), e.g. for tests and for callers that already hold the mapping."""

    def __init__(self, roles: dict[str, str]) -> None:
        self._roles = dict(roles)

    def role_of(self, user: str) -> str | None:
        return self._roles.get(user)
