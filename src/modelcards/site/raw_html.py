"""Large raw-HTML blocks of generated pages, set aside while MkDocs converts the page, and put back after.

The catalog's table and a tag page's model list are raw HTML that a template already escaped. At
1,000 models the catalog alone is 1.1 MB of it, and MkDocs would still pass it through Python-Markdown (which
scans raw HTML twice), its anchor check, and the search plugin's HTML parser: seconds per build, and most of a
live-preview save. Each model has its own page in the search index, so a listing's rows add nothing there.

A template marks such a block by putting it between ``BEGIN`` and ``END``, each alone on its line: two HTML
comments, which leave it valid Markdown for a plain ``mkdocs build`` of ``modelcards generate``'s tree. The
plugin's ``on_page_markdown`` replaces each block with a numbered HTML comment and keeps it; its ``on_post_page``
puts it back into the finished page.
"""

from __future__ import annotations

import re

BEGIN = "<!-- mc-raw-html -->"
END = "<!-- /mc-raw-html -->"
_BLOCK = re.compile(rf"^{re.escape(BEGIN)}\n(.*?)\n{re.escape(END)}$", re.MULTILINE | re.DOTALL)


def set_aside(markdown: str) -> tuple[str, list[str]]:
    """The Markdown with each marked block replaced by a placeholder, and the blocks in order."""
    if BEGIN not in markdown:
        return markdown, []
    blocks: list[str] = []

    def placeholder(match: re.Match) -> str:
        blocks.append(match.group(1))
        return _placeholder(len(blocks) - 1)

    return _BLOCK.sub(placeholder, markdown), blocks


def put_back(html: str, blocks: list[str]) -> str:
    """The page with each placeholder replaced by its block, as Python-Markdown would have passed it through."""
    for index, block in enumerate(blocks):
        html = html.replace(_placeholder(index), block, 1)
    return html


def _placeholder(index: int) -> str:
    return f"<!-- mc-raw-html {index} -->"
