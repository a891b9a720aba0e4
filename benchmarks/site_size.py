"""What does each kind of file cost in the site of a realistic catalog, and what will 1,000 models cost?

Builds the catalog of benchmarks/realistic_build.py (the project's own tree with its cards replaced by N
renamed copies of the example cards) with ``modelcards build`` once per N, or measures sites already built
(``--site DIR``), and prints the bytes per kind of file: model pages, compare pages, crosswalk pages, run
pages, dataset pages, owner and tag pages, downloads, versions.json, SVGs (lineage, SHAP), the search index,
the sitemap and the theme's assets. With two sizes or more it fits each kind to ``a + b*N + c*N^2`` (a
line with two sizes) and extrapolates to 1,000 models, so what grows faster than the catalog shows, then
checks the target of the "Fast at real scale" issue: the whole site is at most 200 MB at 1,000 models.
The exit code is 1 when the (measured or extrapolated) site at 1,000 models is over the target.

    .venv/bin/python benchmarks/site_size.py [--sizes 100,300] [--keep DIR]
    .venv/bin/python benchmarks/site_size.py --site 100=/tmp/n100/site --site 300=/tmp/n300/site
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realistic_build import BIN, MAX_SITE_MB, run, write_project  # noqa: E402

TARGET_N = 1000

# (kind, pattern on the path inside the site); the first that matches wins.
KINDS: list[tuple[str, re.Pattern[str]]] = [(kind, re.compile(pattern)) for kind, pattern in [
    ("model pages", r"^models/[^/]+/index\.html$"),
    ("compare pages", r"^models/[^/]+/compare/"),
    ("crosswalk pages (per model)", r"^models/[^/]+/crosswalk/"),
    ("versions.json", r"^models/[^/]+/versions\.json$"),
    ("downloads: catalog JSON", r"^models/[^/]+/export/.*\.catalog\.json$"),
    ("downloads: CycloneDX", r"^models/[^/]+/export/.*\.cdx\.json$"),
    ("downloads: SPDX", r"^models/[^/]+/export/.*\.spdx3?\.json$"),
    ("downloads: HF card", r"^models/[^/]+/export/.*\.(md|txt)$"),
    ("downloads: other", r"^models/[^/]+/export/"),
    ("models: other", r"^models/"),
    ("run pages", r"^runs/.+/index\.html$"),
    ("runs: other", r"^runs/"),
    ("dataset pages", r"^datasets/"),
    ("owner pages", r"^owners/"),
    ("tag pages", r"^tags/"),
    ("crosswalk (site-wide)", r"^crosswalk/"),
    ("SVG: SHAP plots", r"^explain/.*\.svg$"),
    ("explain: other", r"^explain/"),
    ("SVG: lineage overview", r"^lineage/overview/.*\.svg$"),
    ("SVG: lineage per model", r"^lineage/.*\.svg$"),
    ("lineage: DOT sources", r"^lineage/.*\.dot$"),
    ("lineage: other", r"^lineage/"),
    ("search index", r"^search/"),
    ("sitemap", r"^sitemap\.xml"),
    ("theme assets", r"^assets/"),
    ("catalog (home page)", r"^index\.html$"),
    ("other pages", r"\.html$"),
    ("other files", r""),
]]


def kind_of(relative: str) -> str:
    return next(kind for kind, pattern in KINDS if pattern.search(relative))


def breakdown(site: Path) -> dict[str, tuple[int, int]]:
    """Bytes and file count per kind."""
    totals: dict[str, tuple[int, int]] = {}
    for path in site.rglob("*"):
        if path.is_file():
            kind = kind_of(path.relative_to(site).as_posix())
            size, count = totals.get(kind, (0, 0))
            totals[kind] = (size + path.stat().st_size, count + 1)
    return totals


def chrome_bytes(site: Path) -> tuple[int, int]:
    """Average bytes of a model page outside its article (Material's header, nav, footer, scripts), and of
    the nav alone."""
    pages = sorted((site / "models").glob("*/index.html"))[:20]
    outside, nav = 0, 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        start, end = html.find("<article"), html.rfind("</article>")
        outside += len(html.encode()) - len(html[start:end].encode()) if start >= 0 < end else 0
        nav_start = html.find('<nav class="md-nav md-nav--primary"')
        nav_end = html.find("</nav>", html.rfind("md-nav__list", nav_start, start)) if nav_start >= 0 else -1
        nav += len(html[nav_start:nav_end].encode()) if 0 <= nav_start < nav_end else 0
    return outside // max(len(pages), 1), nav // max(len(pages), 1)


def fit(points: list[tuple[int, int]]) -> tuple[float, float, float]:
    """a + b*N + c*N^2 through the points: exact for two (c = 0) or three, least squares beyond."""
    if len(points) == 1:
        n, size = points[0]
        return 0.0, size / n, 0.0
    if len(points) == 2:
        (n1, s1), (n2, s2) = points
        slope = (s2 - s1) / (n2 - n1)
        return s1 - slope * n1, slope, 0.0
    import numpy  # only here: the benchmark itself needs nothing beyond modelcards' own dependencies

    ns = numpy.array([n for n, _ in points], dtype=float)
    matrix = numpy.vstack([numpy.ones_like(ns), ns, ns ** 2]).T
    a, b, c = numpy.linalg.lstsq(matrix, numpy.array([s for _, s in points], dtype=float), rcond=None)[0]
    return float(a), float(b), float(c)


def print_table(sites: dict[int, dict[str, tuple[int, int]]]) -> float:
    """Prints the bytes per kind for each N and, with two sizes or more, the extrapolation; returns the
    site's MB at TARGET_N (measured, or extrapolated from the largest sizes)."""
    sizes = sorted(sites)
    extrapolate = TARGET_N not in sites and len(sizes) >= 2
    kinds = [kind for kind, _ in KINDS if any(kind in sites[n] for n in sizes)]
    header = "".join(f"{f'N={n} MB':>12}{'files':>7}" for n in sizes)
    header += f"{f'~N={TARGET_N} MB':>13}{'growth':>9}" if extrapolate else ""
    print(f"{'kind':<30}{header}")
    totals = {n: 0 for n in sizes}
    predicted_total = 0.0
    rows = []
    for kind in kinds:
        row = f"{kind:<30}"
        for n in sizes:
            size, count = sites[n].get(kind, (0, 0))
            totals[n] += size
            row += f"{size / 1024 ** 2:>12.2f}{count:>7}"
        if extrapolate:
            a, b, c = fit([(n, sites[n].get(kind, (0, 0))[0]) for n in sizes])
            predicted = max(a + b * TARGET_N + c * TARGET_N ** 2, 0.0)
            predicted_total += predicted
            small, large = (sites[n].get(kind, (0, 0))[0] for n in (sizes[0], sizes[-1]))
            # How the kind grew against the catalog: 1.0 is linear, 2.0 grows with N^2, 0 is fixed.
            growth = "" if not small or not large or large == small else f"{_exponent(sizes, small, large):>8.2f}"
            row += f"{predicted / 1024 ** 2:>13.1f}{growth:>9}"
        rows.append(row)
    print("\n".join(rows))
    total_row = f"{'total':<30}" + "".join(f"{totals[n] / 1024 ** 2:>12.2f}{'':>7}" for n in sizes)
    if extrapolate:
        total_row += f"{predicted_total / 1024 ** 2:>13.1f}"
    print(total_row)
    if extrapolate:
        print(f"(growth: the exponent k of size ~ N^k between N={sizes[0]} and N={sizes[-1]}; "
              f"~N={TARGET_N}: each kind fitted to a + b*N{' + c*N^2' if len(sizes) > 2 else ''})")
    if TARGET_N in sites:
        return totals[TARGET_N] / 1024 ** 2
    return predicted_total / 1024 ** 2 if extrapolate else totals[sizes[-1]] / 1024 ** 2 * TARGET_N / sizes[-1]


def _exponent(sizes: list[int], small: int, large: int) -> float:
    import math

    return math.log(large / small) / math.log(sizes[-1] / sizes[0])


def build(n: int, scratch: Path) -> Path:
    project = scratch / f"n{n}"
    shutil.rmtree(project, ignore_errors=True)
    write_project(project, n)
    print(f"  N={n}: modelcards build ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    run([str(BIN / "modelcards"), "build", "-d", "site"], project)
    print(f"  N={n}: built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return project / "site"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300", help="Catalog sizes N to build (default: %(default)s).")
    parser.add_argument("--site", action="append", default=[], metavar="N=DIR",
                        help="Measure a site already built for N models instead of building it (repeatable).")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the scratch projects in this folder.")
    args = parser.parse_args()
    given: dict[int, Path] = {}
    for item in args.site:
        n, _, folder = item.partition("=")
        if not n.isdigit() or not Path(folder).is_dir():
            parser.error(f"--site {item}: expected N=DIR with a built site in DIR")
        given[int(n)] = Path(folder)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="modelcards-sitesize-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        if not given:
            sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
            if not sizes or min(sizes) < 1:
                parser.error("--sizes needs positive numbers")
            given = {n: build(n, scratch) for n in sizes}
        sites = {n: breakdown(folder) for n, folder in sorted(given.items())}
        outside, nav = chrome_bytes(given[min(given)])
        print(f"Site of the realistic catalog by kind of file (model pages: {outside / 1024:.1f} KB each "
              f"outside the article, {nav / 1024:.1f} KB of it the nav)\n")
        at_target = print_table(sites)
        passed = at_target <= MAX_SITE_MB
        print(f"\n{'PASS' if passed else 'FAIL'} (target: site <= {MAX_SITE_MB} MB at {TARGET_N} models, "
              f"{'measured' if TARGET_N in sites else 'extrapolated'} {at_target:.0f} MB)")
        return 0 if passed else 1
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
