"""SHAP work sent to a real Dask cluster (a LocalCluster with two worker processes) gives the site local
processes give, and fills the build's own cache."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import skops.io as sio
from distributed import LocalCluster
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

from conftest import run_modelcards, write_project

TREE = "sklearn.tree._tree.Tree"
LINEAGE_OFF = {"no_data_version": "off", "no_code_commit": "off", "no_run": "off"}


def _options(**options: object) -> dict:
    return {"plugins": ["search", {"modelcards": {"lineage_checks": LINEAGE_OFF, "shap_plots": "all", **options}}]}


def _project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    cancer = load_breast_cancer(as_frame=True).frame
    cancer.to_csv(root / "data/cancer.csv", index=False)
    X, y = cancer.drop(columns="target"), cancer["target"]
    for seed in (0, 1, 2):
        forest = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=seed).fit(X, y)
        sio.dump(forest, root / f"models/forest-{seed}.skops")
    versions = "".join(f"""
        - version: "1.{seed}"
          date: 2024-0{seed + 1}-01
          explainability:
            compute: {{model: models/forest-{seed}.skops, data: data/cancer.csv, target: target,
                       sample_size: 80, trusted_types: [{TREE}]}}""" for seed in (0, 1, 2))
    card = "name: cancer\ntitle: Cancer\nversions:" + textwrap.indent(textwrap.dedent(versions), "  ") + "\n"
    write_project(root, {"cancer.yml": card}, **_options())
    return root


def _site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted((site / "explain").rglob("*"))
            if p.is_file()} | {"model page": (site / "models/cancer/index.html").read_bytes()}


def test_a_dask_cluster_explains_what_local_processes_would_and_the_build_caches_it(tmp_path: Path) -> None:
    root = _project(tmp_path / "cluster")
    local = tmp_path / "local"
    shutil.copytree(root, local)  # the same model files, byte for byte: their hashes show on the page
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        write_project(root, {}, **_options(explain_executor=cluster.scheduler_address))
        result = run_modelcards("build", cwd=root, timeout=600)
        assert result.stderr.splitlines()[0] == (
            f"Explaining 3 model version(s) with SHAP in the Dask cluster at {cluster.scheduler_address}")
        # The scheduler's workers, not the build's process, spent the computing time.
        assert cluster.scheduler.task_prefixes["produce"].all_durations["compute"] > 0
    on_cluster = _site_files(root / "site")
    assert len([name for name in on_cluster if name.endswith("-beeswarm.svg")]) == 3

    write_project(local, {}, **_options(explain_workers=1))
    run_modelcards("build", cwd=local, timeout=600)
    assert _site_files(local / "site") == on_cluster

    # Only the build's process writes the cache: with the cluster gone, nothing is left to produce.
    write_project(root, {}, **_options())
    again = run_modelcards("build", cwd=root, timeout=300)
    assert "3 version(s), 0 computed or drawn, 3 from the cache" in again.stderr + again.stdout


def test_an_explain_executor_that_is_no_scheduler_address_is_named_with_its_line(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    write_project(root, {"cancer.yml": "name: cancer\ntitle: Cancer\nversions: []\n"},
                  plugins=["search", {"modelcards": {"explain_executor": "scheduler:8786"}}])
    result = run_modelcards("build", cwd=root, check=False)
    assert result.returncode == 1
    assert re.search(r"^mkdocs\.yml:\d+:\d+: error: plugins\.modelcards\.explain_executor: found 'scheduler:8786', "
                     r"expected a Dask scheduler's address, e\.g\. tcp://scheduler:8786, or null$",
                     result.stderr, re.M), result.stderr
