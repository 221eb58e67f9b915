"""Text from outside (a URL, an uploaded file) shown as text: never a link, markup or Markdown.

Streamlit renders the body of ``st.warning``/``st.markdown`` as Markdown, and
Markdown turns a bare ``www.example.com`` into a link even when its dots are
escaped. An inline code span is the one Markdown construct whose content is
shown character for character: no link, no emphasis, no HTML. So every
untrusted fragment goes through :func:`literal`, and our own sentences around
it through :func:`plain`.
"""

from __future__ import annotations

from typing import Any

MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-!|$~:"


def literal(text: Any, limit: int = 40) -> str:
    """Untrusted text as an inline code span, cut to ``limit`` characters."""
    s = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in str(text))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = s.replace("`", "\N{MODIFIER LETTER GRAVE ACCENT}")  # a backtick would close the span
    if not s.strip():
        return "(empty)"
    return f"` {s} `" if s[0] == " " or s[-1] == " " else f"`{s}`"


def plain(text: Any) -> str:
    """Our own text with every Markdown special character escaped (shown as typed)."""
    s = str(text)
    for ch in MARKDOWN_SPECIALS:
        s = s.replace(ch, "\\" + ch)
    return s
