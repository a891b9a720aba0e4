"""shap's beeswarm plot as SVG: deterministic across processes, escaped, small, cached without imports."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import RandomForestClassifier

from conftest import svg_as_drawn
from modelcards.explain.compute import ExplainSettings, explain
from modelcards.explain.plots import PlotCache, plot_key, plots_for, render_plots

TREE = ("sklearn.tree._tree.Tree",)
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plots")
    cancer = load_breast_cancer(as_frame=True).frame.rename(columns={"mean radius": HOSTILE})
    cancer.to_csv(root / "cancer.csv", index=False)
    X, y = cancer.drop(columns="target"), cancer["target"]
    sio.dump(RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y), root / "cancer.skops")
    wine = load_wine(as_frame=True).frame
    wine.to_csv(root / "wine.csv", index=False)
    Xw, yw = wine.drop(columns="target"), wine["target"]
    sio.dump(RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(Xw, yw), root / "wine.skops")
    return root


def _explained(root: Path, name: str):
    settings = ExplainSettings(Path(f"{name}.skops"), Path(f"{name}.csv"), target="target", sample_size=200,
                               trusted_types=TREE)
    return explain(settings, project_root=root)


def _texts(svg: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_the_plots_are_svg_naming_the_top_features_with_hostile_names_as_text(project: Path) -> None:
    explanation = _explained(project, "cancer")
    plots = render_plots(explanation, "1")
    assert sorted(plots) == ["beeswarm"]
    top = explanation.outputs["1"][0].feature
    for svg in plots.values():
        texts = _texts(svg)  # parses: valid XML
        assert any(top in text for text in texts)
        assert "<script" not in svg and "&lt;script&gt;" in svg
        assert "dc:date" not in svg and "<dc:creator" not in svg


def test_the_embedded_dots_are_a_palette_png_that_keeps_the_plot_small(project: Path) -> None:
    import base64
    import io

    from PIL import Image

    svg = render_plots(_explained(project, "cancer"), "1")["beeswarm"]
    rasters = re.findall(r'data:image/png;base64,([^"]+)"', svg)
    assert rasters, "the dots are rasterized"
    dots = max(rasters, key=len)  # the colour bar is a tiny gradient, kept as it is when that is smaller
    assert Image.open(io.BytesIO(base64.b64decode(dots))).mode == "P"
    # 200 rows x 20 feature rows: about 29 KB (41 KB as matplotlib writes it); full RGBA dots take about 70 KB
    # at 100 dpi and 125 KB at 150.
    assert len(svg.encode()) < 35_000


def test_the_compacted_svg_draws_what_matplotlib_drew(project: Path, browser, monkeypatch) -> None:
    from PIL import ImageChops

    from modelcards.explain import plots

    explanation = _explained(project, "cancer")
    with monkeypatch.context() as patched:
        patched.setattr(plots, "compact_svg", lambda svg: svg)
        drawn = render_plots(explanation, "1")["beeswarm"]
    compact = plots.compact_svg(drawn)
    assert compact == render_plots(explanation, "1")["beeswarm"]
    assert len(compact) < 0.8 * len(drawn)
    assert _texts(compact) == _texts(drawn)
    assert re.findall(r"base64,[^\"]+", compact) == re.findall(r"base64,[^\"]+", drawn)
    ids = set(re.findall(r' id="([^"]+)"', compact))
    assert set(re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', compact)) and all(
        target in ids for pair in re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', compact) for target in pair if target)

    before, after = svg_as_drawn(browser, drawn), svg_as_drawn(browser, compact)
    assert before.size == after.size
    histogram = ImageChops.difference(before, after).histogram()
    # Coordinates rounded to a hundredth of a point move some anti-aliased edge pixels a little, nothing more.
    assert sum(histogram[33:]) < 0.005 * sum(histogram)


def test_two_processes_draw_the_same_bytes(project: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from modelcards.explain.compute import ExplainSettings, explain
        from modelcards.explain.plots import render_plots
        settings = ExplainSettings(Path("wine.skops"), Path("wine.csv"), target="target", sample_size=200,
                                   trusted_types={TREE!r})
        explanation = explain(settings, project_root=Path({str(project)!r}))
        print(json.dumps({{label: render_plots(explanation, label) for label in explanation.outputs}}))
    """)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1]
    plots = json.loads(runs[0])
    assert sorted(plots) == ["0", "1", "2"]
    assert plots["0"]["beeswarm"] != plots["1"]["beeswarm"], "each class has its own plot"


def test_a_summary_has_nothing_to_draw(project: Path) -> None:
    summary = dataclasses.replace(_explained(project, "wine"), values=None, data=None)
    assert render_plots(summary, "0") == {} and plots_for(summary, "0", None) == {}


def test_embedded_values_without_feature_values_or_base_value_are_drawn(project: Path) -> None:
    explanation = dataclasses.replace(_explained(project, "cancer"), data=None, base_values={})
    assert sorted(render_plots(explanation, "1")) == ["beeswarm"]


def test_cached_plots_import_neither_shap_nor_matplotlib(project: Path, tmp_path: Path) -> None:
    explanation = _explained(project, "cancer")
    cache = PlotCache(tmp_path / "plots")
    drawn = plots_for(explanation, "1", cache)
    key = plot_key(explanation, "1")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [f"{key}.beeswarm.svg"]
    import numpy as np

    np.save(tmp_path / "values.npy", explanation.values)
    np.save(tmp_path / "data.npy", explanation.data)
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        import numpy as np
        from modelcards.explain.compute import Explanation
        from modelcards.explain.plots import PlotCache, plots_for
        # The arrays as the explanation cache would give them back; outputs need only their labels.
        stored = Explanation(outputs={{"1": []}},
                             base_values={explanation.base_values!r}, explainer=None, shap_version=None,
                             model_sha256=None, data_sha256=None, features={explanation.features!r},
                             rows_total=None, rows_sampled=None, background_rows=None, seed=None,
                             values=np.load({str(tmp_path / "values.npy")!r}),
                             data=np.load({str(tmp_path / "data.npy")!r}))
        plots = plots_for(stored, "1", PlotCache(Path({str(tmp_path / "plots")!r})))
        print(json.dumps([plots, sorted(m for m in ("shap", "matplotlib") if m in sys.modules)]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [drawn, []]


def test_a_half_written_entry_is_drawn_again(project: Path, tmp_path: Path) -> None:
    explanation = _explained(project, "cancer")
    cache = PlotCache(tmp_path)
    drawn = plots_for(explanation, "1", cache)
    key = plot_key(explanation, "1")
    (tmp_path / f"{key}.beeswarm.svg").write_text(drawn["beeswarm"][:500])
    assert cache.get(key) is None
    assert plots_for(explanation, "1", cache) == drawn
    assert cache.get(key) == drawn


def test_plot_keys_follow_what_is_drawn(project: Path) -> None:
    explanation = _explained(project, "wine")
    keys = {plot_key(explanation, label) for label in explanation.outputs}
    assert len(keys) == 3
    shifted = dataclasses.replace(explanation, values=explanation.values * 2)
    assert plot_key(shifted, "0") != plot_key(explanation, "0")
    assert plot_key(dataclasses.replace(explanation, data=None), "0") != plot_key(explanation, "0")
