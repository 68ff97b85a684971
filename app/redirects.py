"""The one check for every redirect target taken from a request (?next=, a form's next field)."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit


def is_same_site_path(target: str | None) -> bool:
    """True only for a path on this site such as /courses/3?x=1 (never //host, /\\host, scheme:...)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return False
    # Browsers treat "\" like "/" and drop tabs/newlines inside URLs, so judge the value they would use;
    # decoding once catches %2F%2F and %5C forms that a later redirect step might decode.
    for value in (target, unquote(target)):
        if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in value):
            return False
        normal = value.replace("\\", "/")
        if not normal.startswith("/") or normal.startswith("//"):
            return False
        parts = urlsplit(normal)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_redirect_target(target: str | None, fallback: str) -> str:
    """target when it is a same-site path, else fallback (a url_for the caller built)."""
    return target if is_same_site_path(target) else fallback
