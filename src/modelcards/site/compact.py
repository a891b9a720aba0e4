"""Generated pages as they are published: without the indentation of the theme's templates.

Material indents its HTML as its Jinja templates nest, and leaves a blank line for every block that renders
nothing: about a quarter of a run or comparison page is spaces and empty lines, repeated on every page of a
catalog. Outside ``<pre>``, ``<textarea>``, ``<script>`` and ``<style>`` a browser treats any run of white
space as one space, so a newline followed by white space is cut to the newline: the page looks and reads the
same, its text and links unchanged.
"""

from __future__ import annotations

import re

# Where white space is content: kept whole. Each element runs to its own end tag (none of them nests).
_VERBATIM = re.compile(r"(<(pre|textarea|script|style)\b.*?</\2\s*>)", re.DOTALL | re.IGNORECASE)
_INDENT = re.compile(r"\n\s+")


def compact_html(page: str) -> str:
    """The page with every newline's following white space (indentation, blank lines) cut, outside elements
    whose white space is content."""
    parts = _VERBATIM.split(page)
    # split() returns text, element, tag name, text, element, tag name, ...: squeeze the text only.
    return "".join(_INDENT.sub("\n", part) if index % 3 == 0 else part
                   for index, part in enumerate(parts) if index % 3 != 2)
