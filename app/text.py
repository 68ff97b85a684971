"""Rules for text people type (names): no control characters in, none out to files that reject them."""
from __future__ import annotations

import re
import unicodedata

# An address with one @ and a dot in its domain: the sign-up form, the student form and the roster import agree.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# C0/C1 controls (line breaks and tabs included), DEL, and Unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_chars(value: str | None) -> bool:
    """True when the text holds a control character (a line break breaks mail headers and CSV rows)."""
    return bool(value) and bool(_CONTROL.search(value))


def control_char_message(label: str) -> str:
    """What the teacher is told when a name holds a control character."""
    return f"{label} must be on one line, without tabs or other control characters."


def printable(value: str) -> str:
    """The text with every control or unassigned character replaced by a space (for stored, older data)."""
    if value.isprintable():  # the usual case, and fast: export cells are mostly "P" and "A"
        return value
    cleaned = _CONTROL.sub(" ", value)
    return "".join(" " if unicodedata.category(ch) in ("Cs", "Cn") else ch for ch in cleaned)
