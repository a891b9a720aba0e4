"""Explanations on the built site: real models, real SHAP, real `modelcards build`, the page a reader sees."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from conftest import MODELCARDS, run_modelcards, write_project
from shap_reference import documented_sample

TREE = "sklearn.tree._tree.Tree"
# These projects have no runs: the lineage checks would warn about every version.
QUIET = ["search", {"modelcards": {"lineage_checks": {"no_data_version": "off", "no_code_commit": "off",
                                                      "no_run": "off"}}}]


def _card(name: str, versions: str) -> str:
    return f"name: {name}\ntitle: {name.title()}\nversions:\n" + textwrap.indent(textwrap.dedent(versions), "  ")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tree, a linear and a multiclass model computed at build time, and one model embedding values."""
    root = tmp_path_factory.mktemp("explained")
    (root / "data").mkdir()
    (root / "models").mkdir()
    cancer = load_breast_cancer(as_frame=True).frame
    cancer.to_csv(root / "data/cancer.csv", index=False)
    X, y = cancer.drop(columns="target"), cancer["target"]
    sio.dump(RandomForestClassifier(n_estimators=25, max_depth=4, random_state=0).fit(X, y),
             root / "models/forest.skops")
    small = X.iloc[:, :10]
    sio.dump(RandomForestClassifier(n_estimators=25, max_depth=4, random_state=1).fit(small, y),
             root / "models/forest-small.skops")
    sio.dump(LogisticRegression(max_iter=10_000).fit(X, y), root / "models/logistic.skops")
    wine = load_wine(as_frame=True).frame
    wine.to_parquet(root / "data/wine.parquet", index=False)
    Xw, yw = wine.drop(columns="target"), wine["target"]
    sio.dump(RandomForestClassifier(n_estimators=25, max_depth=4, random_state=0).fit(Xw, yw),
             root / "models/wine.skops")

    diabetes = load_diabetes(as_frame=True).frame
    Xd, yd = diabetes.drop(columns="target"), diabetes["target"]
    regressor = RandomForestRegressor(n_estimators=25, max_depth=4, random_state=0).fit(Xd, yd)
    (root / "shap").mkdir()
    np.save(root / "shap/values.npy", shap.TreeExplainer(regressor)(Xd.iloc[:100]).values)
    Xd.iloc[:100].to_csv(root / "shap/rows.csv", index=False)

    write_project(root, {
        "cancer.yml": _card("cancer", f"""
            - version: "1.0"
              date: 2024-01-01
              explainability:
                compute: {{model: models/forest-small.skops, data: data/cancer.csv, sample_size: 100,
                           features: {json.dumps(list(small.columns))}, trusted_types: [{TREE}]}}
            - version: "2.0"
              date: 2024-02-01
              explainability:
                compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: 200,
                           trusted_types: [{TREE}]}}
            - version: "3.0"
              date: 2024-03-01
              explainability:
                compute: {{model: models/logistic.skops, data: data/cancer.csv, target: target,
                           sample_size: 300, background_size: 200, seed: 7}}
            """),
        "wine.yml": _card("wine", f"""
            - version: "1.0"
              date: 2024-01-01
              explainability:
                compute: {{model: models/wine.skops, data: data/wine.parquet, target: target,
                           trusted_types: [{TREE}]}}
            """),
        "diabetes.yml": _card("diabetes", """
            - version: "1.0"
              date: 2024-01-01
              explainability:
                embed:
                  values: shap/values.npy
                  features: [age, sex, bmi, bp, s1, s2, s3, s4, s5, s6]
                  data: shap/rows.csv
                  base_value: 152.1
                  explainer: TreeExplainer
                  source: "notebooks/<b>train</b>.ipynb"
            """),
    }, plugins=QUIET)
    return root


@pytest.fixture(scope="module")
def built(project: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    result = run_modelcards("build", cwd=project, timeout=600)
    return project / "site", result


def _importance(page: str) -> dict[str, dict[str, float]]:
    """Per section heading ('Class 1', ...): feature -> the exact mean |SHAP| the page carries."""
    found: dict[str, dict[str, float]] = {}
    section = ""
    pattern = re.compile(r"<strong>Class (.+?)</strong>|<code>([^<]+)</code></td>\s*<td><span data-mean-abs=\"([^\"]+)\"")
    for match in pattern.finditer(page):
        if match.group(1) is not None:
            section = html.unescape(match.group(1))
        else:
            found.setdefault(section, {})[html.unescape(match.group(2)).replace("\\", "")] = float(match.group(3))
    return found


def _version_section(page: str, version: str) -> str:
    """The explanation of one version: from its heading to the next heading of its level or above."""
    start = re.search(rf'<h4 [^>]*id="[^"]+">What drives version {re.escape(version)}<', page).start()
    end = re.compile(r"<h[1-4] ").search(page, start + 1)
    return page[start:end.start() if end else len(page)]


def _plots(site: Path, model: str, html_text: str) -> list[Path]:
    """The beeswarm files that ``html_text``, part of ``model``'s page, shows; each must be in the site."""
    found = [(site / "models" / model / src).resolve()
             for src in re.findall(r'<img [^>]*src="([^"]+-beeswarm\.svg)"', html_text)]
    for plot in found:
        assert plot.is_file() and plot.parent == (site / "explain/_plots").resolve(), plot
    return found


def _assert_close(shown: dict[str, float], values: np.ndarray, features: list[str]) -> None:
    expected = dict(zip(features, np.abs(values).mean(axis=0)))
    assert shown.keys() <= expected.keys()
    assert len(shown) == min(20, len(features))
    for feature, value in shown.items():
        assert abs(value - expected[feature]) <= 1e-6, feature


def test_tree_model_on_the_page_equals_shap_directly(project: Path, built) -> None:
    site, _ = built
    page = _version_section((site / "models/cancer/index.html").read_text(), "2.0")
    frame = pd.read_csv(project / "data/cancer.csv").drop(columns="target")
    sample, _ = documented_sample(frame, 200, 100, 0)
    model = sio.load(project / "models/forest.skops", trusted=[TREE])
    values = shap.TreeExplainer(model)(sample).values[:, :, 1]
    _assert_close(_importance(page)[""], values, list(frame.columns))
    assert "The data holds 569 rows; a sample of 200 (seed 0) was explained." in html.unescape(page)


def test_linear_model_on_the_page_equals_shap_directly_over_the_whole_background(project: Path, built) -> None:
    site, _ = built
    page = _version_section((site / "models/cancer/index.html").read_text(), "3.0")
    frame = pd.read_csv(project / "data/cancer.csv").drop(columns="target")
    sample, background = documented_sample(frame, 300, 200, 7)
    model = sio.load(project / "models/logistic.skops", trusted=[])
    # Handed 200 rows, SHAP's masker would keep 100 of its own choosing; the page's numbers use all 200.
    explainer = shap.LinearExplainer(model, shap.maskers.Independent(background, max_samples=len(background)))
    assert explainer.masker.data.shape[0] == 200
    _assert_close(_importance(page)[""], explainer(sample).values, list(frame.columns))
    assert "LinearExplainer" in page and "Background rows</td>\n<td>200" in page


def test_multiclass_model_shows_every_class_equal_to_shap_directly(project: Path, built) -> None:
    site, _ = built
    page = (site / "models/wine/index.html").read_text()
    frame = pd.read_parquet(project / "data/wine.parquet").drop(columns="target")
    model = sio.load(project / "models/wine.skops", trusted=[TREE])
    values = shap.TreeExplainer(model)(frame).values
    shown = _importance(page)
    assert sorted(shown) == ["0", "1", "2"]
    for index, label in enumerate(["0", "1", "2"]):
        _assert_close(shown[label], values[:, :, index], list(frame.columns))


def test_the_page_has_plots_csv_provenance_and_rank_changes(project: Path, built) -> None:
    site, result = built
    page = (site / "models/cancer/index.html").read_text()
    section = _version_section(page, "2.0")
    text = html.unescape(re.sub(r"<[^>]+>", " ", section))
    # Provenance: mode, explainer, SHAP version and the hashes of both files.
    import hashlib

    for needed in ["computed at build time", "TreeExplainer", shap.__version__,
                   hashlib.sha256((project / "models/forest.skops").read_bytes()).hexdigest(),
                   hashlib.sha256((project / "data/cancer.csv").read_bytes()).hexdigest(),
                   "200 of 569 (sampled)", "Since 1.0."]:
        assert needed in text, needed
    # The importance bars are the page's own inline SVG, one bar per listed feature, largest first.
    bars = re.search(r'<svg class="mc-chart mc-importance-bars".*?</svg>', section, re.S).group(0)
    bar_titles = [html.unescape(t) for t in re.findall(r"<rect [^>]*><title>([^<]+)</title>", bars)]
    listed = list(_importance(section)[""])
    assert [t.rsplit(": ", 1)[0] for t in bar_titles] == listed and len(listed) == 20
    # shap's beeswarm is drawn for the newest explained version only (shap_plots: latest, the default).
    assert _plots(site, "cancer", section) == []
    (plot,) = _plots(site, "cancer", _version_section(page, "3.0"))
    assert plot.read_text().lstrip().startswith(("<?xml", "<svg"))
    csv = (site / "explain/cancer/2.0/importance.csv").read_text().splitlines()
    assert csv[0] == "output,rank,feature,mean_abs_shap,share"
    assert len(csv) == 31
    # Version 1.0 saw 10 features; features new in 2.0's top ten show as new ("–" before).
    assert "– →" in text
    assert "Explaining [" in result.stderr
    # explain_workers is 0: one process per core, never more than the five versions to compute or draw.
    processes = min(5, os.cpu_count() or 1)
    assert f"Explaining 5 model version(s) with SHAP in {processes} process" in result.stderr


def test_embedded_values_show_as_given_with_their_source_escaped(project: Path, built) -> None:
    site, _ = built
    page = (site / "models/diabetes/index.html").read_text()
    values = np.load(project / "shap/values.npy")
    features = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    _assert_close(_importance(page)[""], values, features)
    assert "embedded: computed elsewhere" in page
    assert "notebooks/&lt;b&gt;train&lt;/b&gt;.ipynb" in page and "<b>train</b>" not in page
    assert "Base value: 152.1." in page
    assert len(_plots(site, "diabetes", page)) == 1


def _build_in_process(project: Path, *args: str, command: str = "build") -> tuple[int, list[str], str]:
    """Exit code, the heavy modules a build (or another ``command``) imported, and what it printed."""
    script = textwrap.dedent(f"""
        import contextlib, io, sys
        from modelcards.cli import main
        sys.argv = ["modelcards", {command!r}, *{list(args)!r}]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code
        heavy = sorted(m for m in ("shap", "matplotlib", "numba", "sklearn", "skops", "pandas", "pyarrow")
                       if m in sys.modules)
        print(code, ",".join(heavy))
        print(err.getvalue())
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=600)
    code, heavy = done.stdout.splitlines()[0].split(" ", 1)
    return int(code), [m for m in heavy.split(",") if m], "\n".join(done.stdout.splitlines()[1:]) + done.stderr


def test_a_rebuild_with_nothing_changed_computes_nothing_and_imports_nothing_heavy(project: Path, built) -> None:
    cache = project / ".modelcards-cache"
    before = _cache_files(cache)
    code, heavy, output = _build_in_process(project, "--site-dir", "site-again")
    assert code == 0, output
    assert heavy == []
    assert "5 version(s), 0 computed or drawn, 5 from the cache" in output
    assert _cache_files(cache) == before  # nothing written: each file is the one the first build wrote
    first, again = project / "site/models/cancer/index.html", project / "site-again/models/cancer/index.html"
    assert first.read_bytes() == again.read_bytes()
    # MkDocs copied the plots from the cache's content-addressed folder, where the first build wrote each once.
    first_page, again_page = (project / f"{site}/models/diabetes/index.html" for site in ("site", "site-again"))
    assert first_page.read_bytes() == again_page.read_bytes()
    (plot,) = _plots(project / "site-again", "diabetes", again_page.read_text())
    stored = cache / "site-files" / f"{hashlib.sha256(plot.read_bytes()).hexdigest()}.svg"
    first_plot = project / "site" / plot.relative_to((project / "site-again").resolve())
    assert stored.read_bytes() == plot.read_bytes() == first_plot.read_bytes()


def test_explaining_one_version_keeps_shap_out_of_the_process_that_holds_the_catalog(tmp_path: Path) -> None:
    """SHAP's work and what it imports (about 150 MB) run in a worker process even for one job. In the process
    that holds the catalog they made the largest process of a cold 1,000-model build, and they stayed for as
    long as it ran: `modelcards generate` here, `modelcards serve` (which cannot fork beside its threads)."""
    root = _broken_project(tmp_path / "project", _one_explained_version(30))
    code, heavy, output = _build_in_process(root, "--out", "generated", command="generate")
    assert code == 0, output
    assert heavy == []
    assert (root / "generated/docs/models/cancer.md").read_text().count("data-mean-abs=") == 20, "the table made"


def _cache_files(cache: Path) -> dict[Path, tuple[int, int]]:
    """Each file of the cache with its inode and size: a rewrite (files.write_atomic) makes a new inode."""
    return {p: (p.stat().st_ino, p.stat().st_size) for p in cache.rglob("*") if p.is_file()}


def test_what_a_build_uses_stays_in_the_cache_however_old_and_what_none_used_goes(project: Path, built) -> None:
    cache = project / ".modelcards-cache"
    unused_plot = cache / "plots" / f"{'0' * 64}.beeswarm.svg"  # as a since-edited version's plot is left
    unused_plot.write_text("<svg></svg>")
    users_note = cache / "plots/NOTES.txt"  # not named as the caches name entries: never removed
    users_note.write_text("kept")
    month_ago = time.time() - 30 * 86400
    for path in cache.rglob("*"):
        if path.is_file():
            os.utime(path, (month_ago, month_ago))
    before = _cache_files(cache)

    code, _, output = _build_in_process(project, "--site-dir", "site-aged")
    assert code == 0, output
    assert "5 version(s), 0 computed or drawn, 5 from the cache" in output
    assert "Pages: 0 converted from Markdown" in output
    assert "Cache: removed 1 cache file(s) (0.0 MB) that no build used for 7 day(s)." in output.splitlines()
    assert not unused_plot.exists() and users_note.read_text() == "kept"
    # Every explanation, plot, diagram, page and site file the build used is still there, not rewritten.
    del before[unused_plot]
    assert {path: before[path] for path in _cache_files(cache) if path in before} == before
    assert (project / "site-aged/models/cancer/index.html").read_bytes() == \
        (project / "site/models/cancer/index.html").read_bytes()


def _one_explained_version(sample_size: int) -> str:
    """A card's ``versions``: one, explained by SHAP computed over the forest and the cancer data."""
    return f"""
        - version: "1.0"
          date: 2024-01-01
          explainability:
            compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: {sample_size},
                       trusted_types: [{TREE}]}}
        """


def _broken_project(root: Path, versions: str) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    cancer = load_breast_cancer(as_frame=True).frame
    cancer.to_csv(root / "data/cancer.csv", index=False)
    X, y = cancer.drop(columns="target"), cancer["target"]
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    joblib.dump(forest, root / "models/forest.joblib")
    sio.dump(forest, root / "models/forest.skops")
    cancer.drop(columns="mean radius").assign(shoe_size=42).to_csv(root / "data/shifted.csv", index=False)
    write_project(root, {"cancer.yml": _card("cancer", versions)}, plugins=QUIET)
    return root


def test_every_bad_explainability_block_is_reported_at_its_line_and_the_old_site_stays(tmp_path: Path) -> None:
    root = _broken_project(tmp_path / "project", f"""
        - version: "1.0"
          date: 2024-01-01
          explainability:
            compute: {{model: models/forest.joblib, data: data/cancer.csv, target: target}}
        - version: "1.1"
          date: 2024-01-02
          explainability:
            compute: {{model: models/forest.skops, data: data/shifted.csv, target: target,
                       trusted_types: [{TREE}]}}
        - version: "1.2"
          date: 2024-01-03
          explainability:
            compute: {{model: models/forest.skops, data: ../outside.csv, target: target}}
        - version: "1.3"
          date: 2024-01-04
          explainability:
            compute: {{model: models/gone.skops, data: data/cancer.csv}}
        - version: "1.4"
          date: 2024-01-05
          explainability:
            compute: {{model: models/forest.skops, data: data/cancer.csv, target: target}}
        """)
    (root / "site").mkdir()
    (root / "site/index.html").write_text("the previous site")
    result = run_modelcards("build", cwd=root, check=False, timeout=300)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("cards/")]
    assert lines == [
        "cards/cancer.yml:8:24: error: versions[0].explainability.compute.model: models/forest.joblib: pickle files "
        "run code when they are loaded; mark the card `trusted: true` if you trust whoever saved it, or save the "
        "model with skops",
        "cards/cancer.yml:12:51: error: versions[1].explainability.compute.data: data/shifted.csv: the columns do "
        "not match the model's features: missing mean radius; extra shoe_size",
        f"cards/cancer.yml:17:51: error: versions[2].explainability.compute.data: ../outside.csv: the file is "
        f"outside the project root {root.resolve()}",
        "cards/cancer.yml:21:24: error: versions[3].explainability.compute.model: models/gone.skops: file not found",
        "cards/cancer.yml:25:24: error: versions[4].explainability.compute.model: models/forest.skops: the model "
        "holds types skops does not trust by default: sklearn.tree._tree.Tree; list the ones you have reviewed "
        "under `trusted_types:`, or mark the card `trusted: true` if you trust whoever saved it",
    ]
    assert "5 error(s), 0 warning(s) in the cards; the site was not built" in result.stderr
    assert (root / "site/index.html").read_text() == "the previous site"


def test_two_builds_sharing_one_cache_at_once_both_succeed(tmp_path: Path) -> None:
    root = _broken_project(tmp_path / "project", _one_explained_version(50))
    from conftest import MODELCARDS

    builds = [subprocess.Popen([str(MODELCARDS), "build", "--site-dir", f"site-{i}"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for build in builds:
        _, err = build.communicate(timeout=300)
        assert build.returncode == 0, err
    pages = [(root / f"site-{i}/models/cancer/index.html").read_bytes() for i in range(2)]
    assert pages[0] == pages[1]
    leftovers = [p.name for p in (root / ".modelcards-cache").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_importance_csv_keeps_hostile_feature_names_as_text() -> None:
    import csv
    import io

    from modelcards.explain.compute import Explanation, ranked_importances
    from modelcards.site.explanations import importance_csv

    features = ('=HYPERLINK("http://evil.example","x")', "a,b", "plain", "two\r\nlines")
    explanation = Explanation(outputs={"value": ranked_importances(features, [0.5, 0.3, 0.2, 0.0])},
                              base_values={}, explainer=None, shap_version=None, model_sha256=None,
                              data_sha256=None, features=features, rows_total=None, rows_sampled=None,
                              background_rows=None, seed=None)
    text = importance_csv(explanation)
    assert text.split("\r\n")[:4] == [
        "output,rank,feature,mean_abs_shap,share",
        'value,1,"\'=HYPERLINK(""http://evil.example"",""x"")",0.5,0.5',
        'value,2,"a,b",0.3,0.3',
        "value,3,plain,0.2,0.2",
    ]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[2] for row in rows[1:]] == ["\'" + features[0], "a,b", "plain", "two\r\nlines"]


def test_explain_workers_sets_how_many_processes_the_build_uses_and_says(tmp_path: Path) -> None:
    root = _broken_project(tmp_path / "project", f"""
        - version: "1.0"
          date: 2024-01-01
          explainability:
            compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: 50,
                       trusted_types: [{TREE}]}}
        - version: "2.0"
          date: 2024-02-01
          explainability:
            compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: 60,
                       trusted_types: [{TREE}]}}
        """)
    options = QUIET[1]["modelcards"]
    write_project(root, {}, plugins=["search", {"modelcards": {**options, "explain_workers": 1}}])
    result = run_modelcards("build", cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "Explaining 2 model version(s) with SHAP in 1 process"


def test_versions_with_the_same_inputs_and_settings_are_explained_once_and_each_shows_it(tmp_path: Path) -> None:
    block = _one_explained_version(50)
    root = _broken_project(tmp_path / "project", block)
    options = QUIET[1]["modelcards"]
    copy = (root / "cards/cancer.yml").read_text().replace("name: cancer", "name: copy")
    write_project(root, {"copy.yml": copy}, plugins=["search", {"modelcards": {**options, "explain_workers": 1}}])
    result = run_modelcards("build", cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == ("Explaining 1 model version(s) with SHAP in 1 process "
                                             "(1 other version(s) have the same inputs and settings)")
    tables = [_importance((root / f"site/models/{name}/index.html").read_text()) for name in ("cancer", "copy")]
    assert tables[0] and tables[0] == tables[1]


def test_copies_of_a_card_read_and_hash_its_files_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog of copies holds one copy of each model and data file's bytes while its explanations are
    produced, not one per version (1,000 copies of a card with a 0.8 MB model held 0.8 GB)."""
    from modelcards.build import check_cards
    from modelcards.explain import compute
    from modelcards.explain.stage import explain_versions

    root = _broken_project(tmp_path / "project", _one_explained_version(30))
    card = (root / "cards/cancer.yml").read_text()
    for index in range(5):
        (root / f"cards/copy{index}.yml").write_text(card.replace("name: cancer", f"name: copy{index}"))
    catalog = check_cards([root / "cards"], relative_to=root).catalog
    reads: list[str] = []
    read_file = compute.read_file
    monkeypatch.setattr(compute, "read_file", lambda path, root: reads.append(path.name) or read_file(path, root))
    explained = explain_versions(catalog, project_dir=root, cache_dir=tmp_path / "cache", workers=1)
    assert sorted(reads) == ["cancer.csv", "forest.skops"]
    assert len(explained.versions) == 6 and len({id(v) for v in explained.versions.values()}) == 1


def test_shap_plots_chooses_which_versions_get_the_beeswarm_and_a_wrong_choice_is_named(tmp_path: Path) -> None:
    root = _broken_project(tmp_path / "project", f"""
        - version: "1.0"
          date: 2024-01-01
          explainability:
            compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: 40,
                       trusted_types: [{TREE}]}}
        - version: "2.0"
          date: 2024-02-01
          explainability:
            compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: 50,
                       trusted_types: [{TREE}]}}
        """)
    options = QUIET[1]["modelcards"]
    drawn = {}
    for choice in ("all", "none", "latest"):
        write_project(root, {}, plugins=["search", {"modelcards": {**options, "shap_plots": choice}}])
        result = run_modelcards("build", cwd=root, timeout=300)
        assert result.returncode == 0, result.stderr
        page = (root / "site/models/cancer/index.html").read_text()
        assert page.count('class="mc-chart mc-importance-bars"') == 2, "every version keeps its bars"
        drawn[choice] = [version for version in ("1.0", "2.0")
                         if _plots(root / "site", "cancer", _version_section(page, version))]
        assert len(list((root / "site/explain").rglob("*.svg"))) == len(drawn[choice]), "no plot without a page"
    assert drawn == {"all": ["1.0", "2.0"], "none": [], "latest": ["2.0"]}

    write_project(root, {}, plugins=["search", {"modelcards": {**options, "shap_plots": "newest"}}])
    result = run_modelcards("build", cwd=root, check=False, timeout=300)
    assert result.returncode == 1
    page = (root / "site/models/cancer/index.html").read_text()
    assert len(_plots(root / "site", "cancer", page)) == 1, "the last site stays"
    assert re.search(r"^mkdocs\.yml:\d+:\d+: error: plugins\.modelcards\.shap_plots: found 'newest', expected one "
                     r"of latest, all, none$", result.stderr, re.M), result.stderr


def test_versions_with_the_same_explanation_share_one_plot_file(tmp_path: Path) -> None:
    same = f"""explainability:
            compute: {{model: models/forest.skops, data: data/cancer.csv, target: target, sample_size: 40,
                       trusted_types: [{TREE}]}}"""
    root = _broken_project(tmp_path / "project", f"""
        - version: "1.0"
          date: 2024-01-01
          {same}
        - version: "1.0.1"
          date: 2024-02-01
          {same}
        """)
    write_project(root, {}, plugins=["search", {"modelcards": {**QUIET[1]["modelcards"], "shap_plots": "all"}}])
    result = run_modelcards("build", cwd=root, timeout=300)
    assert result.returncode == 0, result.stderr
    page = (root / "site/models/cancer/index.html").read_text()
    older, newer = (_plots(root / "site", "cancer", _version_section(page, version)) for version in ("1.0", "1.0.1"))
    assert older == newer and len(newer) == 1
    assert list((root / "site/explain").rglob("*.svg")) == newer
    assert 'alt="SHAP beeswarm plot, version 1.0"' in page and 'alt="SHAP beeswarm plot, version 1.0.1"' in page


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while we looked
    return found


def _running(pid: int) -> bool:
    try:  # an ended process that nobody has reaped yet is a zombie ("Z"): it holds no memory
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    children = _children(pid)
    return children + [grandchild for child in children for grandchild in _descendants(child)]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
def test_explain_workers_end_when_the_build_is_killed(project: Path, tmp_path: Path) -> None:
    """A CI job cancelled mid-build kills the build's process; the process generating the pages and its SHAP
    workers must not live on, holding hundreds of megabytes each, waiting for work that will never come."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".modelcards-cache", "site*"))
    build = subprocess.Popen([str(MODELCARDS), "build", "-d", "killed"], cwd=copy,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(workers := _descendants(build.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)  # the process generating the pages, and at least two explaining
        assert len(workers) >= 3, f"the build started {len(workers)} worker process(es), expected at least 3"
    finally:
        build.kill()
        build.wait()
    deadline = time.monotonic() + 15
    while (alive := [pid for pid in workers if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive == []
