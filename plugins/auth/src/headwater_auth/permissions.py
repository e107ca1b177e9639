"""The permission levels of MLflow's basic auth, and what each allows.

EDIT may change an experiment, run or model but not delete it: deleting and
restoring need MANAGE (CVE-2024-4263 was EDIT being able to DELETE), as do
managing other users' permissions on the resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from headwater.exceptions import HeadwaterError


@dataclass(frozen=True)
class Permission:
    name: str
    can_read: bool
    can_update: bool
    can_delete: bool
    can_manage: bool

    def allows(self, action: str) -> bool:
        """``action`` is ``read``, ``update``, ``delete`` or ``manage``."""
        return bool(getattr(self, f"can_{action}"))


READ = Permission("READ", can_read=True, can_update=False, can_delete=False, can_manage=False)
EDIT = Permission("EDIT", can_read=True, can_update=True, can_delete=False, can_manage=False)
MANAGE = Permission("MANAGE", can_read=True, can_update=True, can_delete=True, can_manage=True)
NO_PERMISSIONS = Permission("NO_PERMISSIONS", can_read=False, can_update=False, can_delete=False, can_manage=False)

ALL_PERMISSIONS = {p.name: p for p in (READ, EDIT, MANAGE, NO_PERMISSIONS)}
ACTIONS = ("read", "update", "delete", "manage")


def get_permission(name: str) -> Permission:
    """The permission called ``name``; INVALID_PARAMETER_VALUE listing the valid ones otherwise."""
    try:
        return ALL_PERMISSIONS[str(name).upper()]
    except KeyError:
        raise HeadwaterError.invalid(
            f"Invalid permission {name!r}. Valid permissions are: {', '.join(ALL_PERMISSIONS)}"
        ) from None
