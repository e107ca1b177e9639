"""The error raised for a filter or order_by clause that breaks the grammar."""

from __future__ import annotations

from headwater.exceptions import ErrorCode, HeadwaterError


class SearchSyntaxError(HeadwaterError):
    """INVALID_PARAMETER_VALUE that knows where in the input it went wrong.

    ``position`` is the 0-based character offset of the offending token in the
    filter string (or in the order_by item), so a UI can point at it; the
    message says the same in words ("... at position 17.").
    """

    def __init__(self, message: str, position: int, hint: str | None = None):
        text = f"{message} at position {position}."
        if hint:
            text = f"{text} {hint}"
        super().__init__(text, ErrorCode.INVALID_PARAMETER_VALUE)
        self.position = position
