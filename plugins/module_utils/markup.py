# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Escaping for the reports' Markdown and JUnit XML, one place for every renderer.

Values come from scanned files, servers and users: a pipe must not break a Markdown table, raw HTML must not
render in a viewer that allows it, and a control character (a file name, a server's error text) must not make
a JUnit file that CI refuses to parse (XML 1.0 forbids most C0 characters, even escaped).
"""

from __future__ import annotations

import html
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

# Characters XML 1.0 does not allow anywhere (also not as character references).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BACKTICKS = re.compile("`+")


def xml_clean(value: Any) -> str:
    """The text with each character XML cannot carry replaced by '?' (for ElementTree, which escapes)."""
    return _XML_INVALID.sub("?", str(value))


def xml_text(value: Any) -> str:
    """Element content: cleaned and escaped."""
    return escape(xml_clean(value))


def xml_attr(value: Any) -> str:
    """An attribute value with its quotes: cleaned and escaped."""
    return quoteattr(xml_clean(value))


def md_inline(value: Any) -> str:
    """Inline Markdown text, also fit for a table cell: HTML escaped (some viewers render raw HTML), pipes
    escaped, backticks made quotes (no code span opens), whitespace and newlines collapsed."""
    text = html.escape(xml_clean(value), quote=False).replace("|", "\\|").replace("`", "'")
    return " ".join(text.split())


def md_code(value: Any) -> str:
    """An inline code span with the text as it is (code spans render nothing inside): fenced with more
    backticks than the longest run inside it, pipes escaped for tables, whitespace collapsed."""
    text = " ".join(xml_clean(value).replace("|", "\\|").split())
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
