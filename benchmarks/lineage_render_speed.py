"""How fast are lineage diagrams drawn: one `dot` process per graph, against batched and cached drawing?

Generates N synthetic model-neighbourhood graphs shaped like lineage diagrams (rankdir=LR; 2 datasets -> 1-2
training runs with their commit -> 5 model versions -> 2 deployments; a URL and a tooltip on every node) and
prints, wall clock:

* one `dot -Tsvg` process per graph, sequentially: the baseline. Timed on a subset (--baseline-graphs) and
  extrapolated to N, since it is the slow path;
* `render_svgs` with a fresh, empty cache directory (cold: batched, one `dot` per CPU);
* `render_svgs` again with the same cache (warm: no `dot` at all);

each with its CPU time (this process plus the `dot` processes), which barely moves when other work shares the
machine: when wall clock and CPU disagree, the machine was busy;

then the ratios, and a verdict against the targets (cold <= 2 s and warm <= 0.2 s for 1,000 graphs, scaled to N).
The exit code is 1 when a target is missed.

    .venv/bin/python benchmarks/lineage_render_speed.py [--graphs 1000] [--baseline-graphs 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modelcards.lineage.render import render_svgs

COLD_SECONDS_PER_1000 = 2.0
WARM_SECONDS_PER_1000 = 0.2


def neighbourhood_graph(i: int, rng: random.Random) -> str:
    """The lineage around model ``i``: its data, its training runs, its versions and where they are deployed."""
    model = f"model-{i:04d}"
    lines = [
        f'digraph "{model}" {{',
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=10];',
    ]
    datasets = [f"data_{i}_{d}" for d in range(2)]
    runs = [f"run_{i}_{r}" for r in range(rng.randint(1, 2))]
    versions = [f"v_{i}_{v}" for v in range(1, 6)]
    deployments = [f"deploy_{i}_{env}" for env in ("staging", "production")]
    for d, node in enumerate(datasets):
        lines.append(f'  {node} [shape=cylinder, label="dataset-{i}-{d}\\nrows: {rng.randint(1000, 99999)}", '
                     f'URL="../../datasets/dataset-{i}-{d}/", tooltip="Dataset dataset-{i}-{d}"];')
    for r, node in enumerate(runs):
        commit = f"{rng.getrandbits(28):07x}"
        lines.append(f'  {node} [shape=ellipse, label="run {rng.randint(1, 9999)}\\ncommit {commit}", '
                     f'URL="../../runs/{model}-{r}/", tooltip="Training run {r} at commit {commit}"];')
        lines.extend(f"  {dataset} -> {node};" for dataset in datasets)
    for v, node in enumerate(versions, start=1):
        current = ', penwidth=2' if v == len(versions) else ""
        lines.append(f'  {node} [label="{model}\\nv{v}", URL="../{model}/v{v}/", '
                     f'tooltip="{model} version {v}"{current}];')
        lines.append(f"  {runs[(v - 1) % len(runs)]} -> {node};")
    for env, node in zip(("staging", "production"), deployments):
        lines.append(f'  {node} [shape=component, label="{env}", URL="../../deployments/{env}/", '
                     f'tooltip="{model} in {env}"];')
    lines.append(f"  {versions[-1]} -> {deployments[0]};")
    lines.append(f"  {versions[-2]} -> {deployments[1]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def timed(action) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds (this process and the dot processes it waited for) spent on ``action()``."""
    start, cpu_start = time.perf_counter(), os.times()
    result = action()
    cpu_end = os.times()
    cpu = sum(cpu_end[:4]) - sum(cpu_start[:4])
    return time.perf_counter() - start, cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graphs", type=int, default=1000, help="how many neighbourhood graphs (default 1000)")
    parser.add_argument("--baseline-graphs", type=int, default=200,
                        help="how many of them the one-process-per-graph baseline draws (default 200)")
    args = parser.parse_args()

    rng = random.Random(42)
    sources = [neighbourhood_graph(i, rng) for i in range(args.graphs)]
    dot = shutil.which("dot")
    if dot is None:
        sys.exit("Graphviz 'dot' not found: apt-get install graphviz")
    subset = sources[: min(args.baseline_graphs, args.graphs)]

    baseline_subset, _, _ = timed(lambda: [subprocess.run([dot, "-Tsvg"], input=s.encode(), capture_output=True,
                                                       check=True) for s in subset])
    baseline = baseline_subset * args.graphs / len(subset)
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"
        cold, cold_cpu, cold_svgs = timed(lambda: render_svgs(sources, cache_dir=cache))
        warm, warm_cpu, warm_svgs = timed(lambda: render_svgs(sources, cache_dir=cache))
    same = cold_svgs == warm_svgs

    nodes = sum(s.count("URL=") for s in sources) / len(sources)
    cold_target = COLD_SECONDS_PER_1000 * args.graphs / 1000
    warm_target = WARM_SECONDS_PER_1000 * args.graphs / 1000
    print(f"{args.graphs} graphs, {nodes:.1f} nodes each on average, {os.cpu_count()} CPUs, {dot}")
    print(f"one dot per graph, sequential: {baseline:7.3f} s  (timed {len(subset)} graphs in {baseline_subset:.3f} s, "
          f"extrapolated to {args.graphs}; {1000 * baseline_subset / len(subset):.1f} ms/graph)")
    print(f"batched + parallel, cold:      {cold:7.3f} s  ({baseline / cold:.1f}x faster than the baseline; "
          f"CPU {cold_cpu:.2f} s)")
    print(f"warm (all cached, no dot):     {warm:7.3f} s  ({baseline / warm:.0f}x faster than the baseline, "
          f"{cold / warm:.0f}x faster than cold; CPU {warm_cpu:.2f} s)")
    print(f"cold and warm SVGs identical:  {same}")
    verdict = cold <= cold_target and warm <= warm_target and same
    print(f"targets: cold <= {cold_target:.2f} s, warm <= {warm_target:.2f} s -> {'met' if verdict else 'MISSED'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
