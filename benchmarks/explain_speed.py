#!/usr/bin/env python3
"""Explanation cost: modelcards against calling SHAP directly on the same model, data and sample.

    python benchmarks/explain_speed.py [--repeat 3]

For a tree model (random forest, 100 trees), a linear model (logistic regression) and a multiclass model
(random forest on wine), each saved with skops beside its data as CSV:

- cold: a fresh Python process computes the explanation, timed from before the first import to the values in
  hand. "direct" imports shap, skops and pandas, loads the model, reads the CSV, draws the sample by modelcards'
  documented rule and calls the explainer; "modelcards" calls ``modelcards.explain.compute.explain`` with an
  empty cache (which also hashes both files and stores the result). The median of ``--repeat`` processes each.
- warm: the build's cost for a version whose explanation and plots are cached (hash the files, read the entry
  and the SVGs), per model, in a process that has already imported modelcards.

Prints the figures and the ratios; exits 1 if cold > 1.1x direct or warm > 50 ms per model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

COLD_RATIO_TARGET = 1.1
WARM_MS_TARGET = 50.0
TREE = "sklearn.tree._tree.Tree"

MODELS = {  # name -> (model file, data file, sample size, background size)
    "tree: random forest, breast cancer": ("forest.skops", "cancer.csv", 569, 100),
    "linear: logistic regression, breast cancer": ("logistic.skops", "cancer.csv", 569, 100),
    "multiclass: random forest, wine": ("wine.skops", "wine.csv", 178, 100),
}

DIRECT = """
import time
started = time.perf_counter()
import io
import numpy as np, pandas as pd, shap, skops.io as sio
model = sio.load({model!r}, trusted={trusted!r})
frame = pd.read_csv({data!r})
X = frame[[str(c) for c in model.feature_names_in_]]
rng = np.random.default_rng(0)
rows = len(X)
sample = X.iloc[np.sort(rng.choice(rows, {sample}, replace=False))] if rows > {sample} else X
background = X.iloc[np.sort(rng.choice(rows, min({background}, rows), replace=False))]
if {tree!r}:
    values = shap.TreeExplainer(model)(sample).values
else:
    values = shap.LinearExplainer(model, background)(sample).values
print(time.perf_counter() - started)
"""

MODELCARDS = """
import time
started = time.perf_counter()
from pathlib import Path
from modelcards.explain.cache import ExplanationCache
from modelcards.explain.compute import ExplainSettings, read_inputs
settings = ExplainSettings(Path({model!r}), Path({data!r}), target="target", sample_size={sample},
                           background_size={background}, trusted_types={trusted!r})
root = Path({root!r})
ExplanationCache(Path({cache!r})).explain(settings, read_inputs(settings, root), project_root=root)
print(time.perf_counter() - started)
"""

WARM = """
import json, time
from pathlib import Path
from modelcards.explain.stage import _cached, _Job
from modelcards.explain.compute import ExplainSettings, read_inputs
jobs = [_Job(name, "1", ExplainSettings(Path(model), Path(data), target="target", sample_size=sample,
                                         background_size=background, trusted_types=tuple(trusted)))
        for name, model, data, sample, background, trusted in json.loads({jobs!r})]
root, cache = Path({root!r}), Path({cache!r})
for job in jobs:  # once, so the first model does not pay for numpy's first import
    assert _cached(job, read_inputs(job.settings, root), root, cache) is not None
times = {{}}
for job in jobs:
    started = time.perf_counter()
    for _ in range(20):
        found = _cached(job, read_inputs(job.settings, root), root, cache)
    times[job.model] = (time.perf_counter() - started) / 20
    assert found is not None and found.plots
print(json.dumps(times))
"""


def make_project(root: Path) -> None:
    import skops.io as sio
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    cancer = load_breast_cancer(as_frame=True).frame
    cancer.to_csv(root / "cancer.csv", index=False)
    X, y = cancer.drop(columns="target"), cancer["target"]
    sio.dump(RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y), root / "forest.skops")
    sio.dump(LogisticRegression(max_iter=10_000).fit(X, y), root / "logistic.skops")
    wine = load_wine(as_frame=True).frame
    wine.to_csv(root / "wine.csv", index=False)
    Xw, yw = wine.drop(columns="target"), wine["target"]
    sio.dump(RandomForestClassifier(n_estimators=100, random_state=0).fit(Xw, yw), root / "wine.skops")


def timed(code: str, cwd: Path) -> float:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement (median)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="modelcards-explain-bench-") as scratch:
        root = Path(scratch)
        make_project(root)
        print(f"{'model':45} {'direct':>9} {'modelcards':>11} {'ratio':>6}")
        total_direct = total_ours = 0.0
        for name, (model, data, sample, background) in MODELS.items():
            tree = "forest" in model or "wine" in model
            trusted = [TREE] if tree else []
            fields = dict(model=str(root / model), data=str(root / data), sample=sample, background=background,
                          trusted=trusted, tree=tree, root=str(root))
            direct = statistics.median(timed(DIRECT.format(**fields), root) for _ in range(args.repeat))
            ours = []
            for attempt in range(args.repeat):
                cache = root / f"cold-{name[:4]}-{attempt}"
                ours.append(timed(MODELCARDS.format(**fields, cache=str(cache)), root))
            mine = statistics.median(ours)
            total_direct += direct
            total_ours += mine
            print(f"{name:45} {direct:8.2f}s {mine:10.2f}s {mine / direct:6.2f}")
        cold_ratio = total_ours / total_direct
        print(f"{'cold, all three':45} {total_direct:8.2f}s {total_ours:10.2f}s {cold_ratio:6.2f}"
              f"  (target <= {COLD_RATIO_TARGET})")

        # Warm: fill the cache as a build would (explanations and plots), then time the cached path.
        from modelcards.explain.compute import ExplainSettings
        from modelcards.explain.stage import _Job, _produce

        cache = root / "warm"
        jobs = []
        for name, (model, data, sample, background) in MODELS.items():
            trusted = [TREE] if ("forest" in model or "wine" in model) else []
            jobs.append([name, model, data, sample, background, trusted])
            _produce(_Job(name, "1", ExplainSettings(Path(model), Path(data), target="target", sample_size=sample,
                                                     background_size=background, trusted_types=tuple(trusted))),
                     root, cache)
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(WARM.format(
            jobs=json.dumps(jobs), root=str(root), cache=str(cache)))], capture_output=True, text=True, check=True)
        warm = json.loads(done.stdout)
        worst = max(warm.values()) * 1000
        for name, seconds in warm.items():
            print(f"warm, cached: {name:38} {seconds * 1000:6.1f} ms")
        print(f"warm, slowest model: {worst:.1f} ms (target <= {WARM_MS_TARGET:.0f} ms)")
    return 0 if cold_ratio <= COLD_RATIO_TARGET and worst <= WARM_MS_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
