"""Page tokens: opaque to clients, base64 of ``{"offset": N}`` as MLflow's are."""

from __future__ import annotations

import base64
import binascii
import json

from headwater.exceptions import HeadwaterError


def encode_page_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a token stands for; 0 for no token. Bad tokens are INVALID_PARAMETER_VALUE."""
    if not token:
        return 0
    try:
        payload = json.loads(base64.b64decode(token, validate=True).decode())
        offset = payload["offset"]
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise HeadwaterError.invalid(f"Invalid page token, could not base64-decode or parse: {token!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise HeadwaterError.invalid(f"Invalid page token, offset must be a non-negative integer: {token!r}")
    return offset
