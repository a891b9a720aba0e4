"""Crawling and inspecting built sites in a real browser: shared by the browser tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urldefrag, urlsplit

from playwright.sync_api import BrowserContext, Page

MAX_PAGES = 500  # a crawl that finds more than this has gone into a loop of generated URLs

# Everything a page exposes to the link checker, read in one round trip.
PAGE_FACTS_JS = """() => ({
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
        .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
    links: [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href]),
})"""


# --- crawling -------------------------------------------------------------------

@dataclass
class RecordedContext:
    """A browser context that logs every request and every uncaught script error of its pages."""

    context: BrowserContext
    requests: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))
        return page


def record(context: BrowserContext) -> RecordedContext:
    context.set_default_timeout(5000)  # a missing element fails in seconds, not Playwright's default 30 s
    recorded = RecordedContext(context)
    context.on("request", lambda request: recorded.requests.append(request.url))

    def on_dialog(dialog) -> None:
        recorded.dialogs.append(f"{dialog.type} {dialog.message!r} on {dialog.page.url if dialog.page else '?'}")
        dialog.dismiss()

    context.on("dialog", on_dialog)
    return recorded


@dataclass
class CrawledPage:
    status: int
    is_html: bool
    ids: set[str] = field(default_factory=set)


@dataclass
class Crawl:
    start: str
    pages: dict[str, CrawledPage]
    problems: list[str]

    def html_pages(self, under: str = "") -> list[str]:
        return sorted(url for url, page in self.pages.items()
                      if page.is_html and page.status == 200 and url.startswith(self.start + under))


def crawl(recorded: RecordedContext, start: str) -> Crawl:
    """Every page reachable from ``start`` by ``<a href>`` under its sub-path, with every broken link found."""
    origin = urlsplit(start)
    page = recorded.new_page()
    pages: dict[str, CrawledPage] = {}
    links: list[tuple[str, str, str, str]] = []  # (on page, href as written, target page, fragment)
    problems: list[str] = []
    queue, queued = [start], {start}
    while queue:
        url = queue.pop(0)
        response = recorded.context.request.get(url)
        is_html = response.headers.get("content-type", "").startswith("text/html")
        pages[url] = CrawledPage(response.status, is_html)
        if response.status != 200 or not is_html:
            continue
        page.goto(url, wait_until="load")
        facts = page.evaluate(PAGE_FACTS_JS)
        pages[url].ids = set(facts["ids"])
        for written, absolute in facts["links"]:
            target, fragment = urldefrag(absolute)
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or parts.netloc != origin.netloc:
                continue  # outside links are not fetched; test_no_request_leaves_the_host covers what loads
            if not parts.path.startswith(origin.path):
                problems.append(f"{url}: href {written!r} leaves the site's sub-path {origin.path}")
                continue
            links.append((url, written, target, fragment))
            if target not in queued and len(queued) < MAX_PAGES:
                queued.add(target)
                queue.append(target)
    page.close()
    assert len(queued) < MAX_PAGES, f"crawl of {start} stopped at {MAX_PAGES} pages"

    for on_page, written, target, fragment in links:
        crawled = pages[target]
        if crawled.status != 200:
            problems.append(f"{on_page}: href {written!r} -> HTTP {crawled.status}")
        elif fragment and crawled.is_html and unquote(fragment) not in crawled.ids:
            problems.append(f"{on_page}: href {written!r} -> no element with id {unquote(fragment)!r} on {target}")
    return Crawl(start, pages, sorted(set(problems)))


def heading_text(page: Page) -> str:
    """The page's h1 without Material's permalink sign."""
    return page.locator("article h1").first.evaluate(
        "h => [...h.childNodes].filter(n => !(n.classList && n.classList.contains('headerlink')))"
        ".map(n => n.textContent).join('').trim()")


# Anything in the DOM that could run: inline handlers, javascript: URLs, scripts carrying the payload.
ACTIVE_CONTENT_JS = """() => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
        for (const attr of el.attributes) {
            if (attr.name.startsWith('on')) found.push(`<${el.tagName.toLowerCase()} ${attr.name}=${attr.value}>`);
        }
    }
    for (const a of document.querySelectorAll('a[href], area[href]')) {
        if (a.href.trim().toLowerCase().startsWith('javascript:')) found.push(`<a href=${a.getAttribute('href')}>`);
    }
    for (const s of document.querySelectorAll('script')) {
        if (s.textContent.includes('alert(1)')) found.push(`<script>${s.textContent.slice(0, 60)}`);
    }
    for (const img of document.querySelectorAll('img')) {
        if (img.getAttribute('src') === 'x') found.push('<img src=x>');
    }
    return found;
}"""
