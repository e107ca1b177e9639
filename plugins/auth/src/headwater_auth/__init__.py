"""Authentication and permissions for the Headwater tracking server.

Installing this distribution changes nothing until it is enabled (``headwater
server --app-name basic-auth`` or ``HEADWATER_AUTH=1``); see
:mod:`headwater_auth.config` and docs/auth.md.
"""

from headwater_auth.permissions import EDIT, MANAGE, NO_PERMISSIONS, READ, Permission, get_permission

__all__ = ["EDIT", "MANAGE", "NO_PERMISSIONS", "READ", "Permission", "get_permission"]
