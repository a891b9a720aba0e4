"""How long after an author saves one card does `modelcards serve` show the change, at 1,000 models?

The catalog is realistic_build.py's: N renamed copies of the example cards, each with MLflow runs of its
own, explanations, datasets, the policy and the monitoring folder. It is generated once first, so the
explanation and SVG cache is filled as on an author's machine. Then ``modelcards serve`` starts on a free
port; once it serves the first model's page, the benchmark rewrites that card's summary and polls the page
over HTTP until the new text is in it. With ``--edit dataset`` it rewrites the description of the dataset
card a third of the models read instead, and polls the dataset's page. The target is the "Live preview" issue's: <= 3 s. The exit code is
1 when it is missed.

    .venv/bin/python benchmarks/serve_preview.py [--models 1000] [--edits 2] [--edit model|dataset]
                                                 [--cards NAME,...] [--cache-from DIR] [--keep DIR]
                                                 [--start-timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realistic_build import BIN, SOURCE_DATE_EPOCH, examples_named, write_project  # noqa: E402  (the same catalog)

TARGET_SECONDS = 3.0
# A one-line or a folded top-level field: a model card's summary, a dataset card's description.
FIELD = {"model": "summary", "dataset": "description"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(url: str, text: str, timeout: float, server: subprocess.Popen) -> float:
    """Seconds until the page at ``url`` contains ``text``, polling every 50 ms."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            sys.exit(f"benchmark: modelcards serve exited with code {server.returncode}")
        page = fetch(url)
        if page is not None and text in page:
            return time.perf_counter() - started
        time.sleep(0.05)
    sys.exit(f"benchmark: {url} did not show {text!r} within {timeout:.0f} s")


def edit_field(card: Path, field: str, value: str) -> None:
    text = card.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{field}:.*\n(?:[ \t]+.*\n)*", re.MULTILINE)
    card.write_text(pattern.sub(f"{field}: {value}\n", text, count=1), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000, help="Catalog size N (default: %(default)s).")
    parser.add_argument("--edits", type=int, default=2, help="Edits to time, one after the other (default: %(default)s).")
    parser.add_argument("--edit", choices=sorted(FIELD), default="model",
                        help="Which card to edit: the first model's summary, or the description of the dataset "
                             "that a third of the models read (default: %(default)s).")
    parser.add_argument("--cards", default=None,
                        help="Copy only these example cards (file stems in cards/, comma-separated; default: all).")
    parser.add_argument("--cache-from", type=Path, default=None,
                        help="A .modelcards-cache folder of an earlier run to start from (the warm-up is then quick).")
    parser.add_argument("--keep", type=Path, default=None, help="Build the project in this folder and keep it.")
    parser.add_argument("--start-timeout", type=float, default=900,
                        help="Seconds to wait for serve's first build (default: %(default)s).")
    args = parser.parse_args()
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="modelcards-serve-"))
    project = scratch / f"n{args.models}"
    shutil.rmtree(project, ignore_errors=True)
    write_project(project, args.models, examples_named(args.cards))
    if args.cache_from is not None:
        shutil.copytree(args.cache_from, project / ".modelcards-cache")
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    modelcards = str(BIN / "modelcards")
    print(f"modelcards serve, live preview of one card's edit, {args.models} models; {os.cpu_count()} CPU(s)")
    started = time.perf_counter()
    # `generate` runs the core as `build` does, so it fills the same cache, without MkDocs' long render.
    subprocess.run([modelcards, "generate", "--out", str(scratch / "warm-up")], cwd=project, env=env, check=True,
                   capture_output=True)
    print(f"  warm-up generate (fills the explanation cache): {time.perf_counter() - started:.1f} s")

    card = sorted((project / "cards").glob("*.yml"))[0]
    name = card.stem
    port = free_port()
    url = f"http://127.0.0.1:{port}/models/{name}/"
    if args.edit == "dataset":
        card = project / "cards" / "datasets" / "breast-cancer-wisconsin.yml"
        url = f"http://127.0.0.1:{port}/datasets/{card.stem}/"
    log = (scratch / "serve.log").open("w")
    started = time.perf_counter()
    server = subprocess.Popen([modelcards, "serve", "-a", f"127.0.0.1:{port}"], cwd=project, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    times = []
    run_id = f"{time.time_ns():x}"
    try:
        title = wait_for(url, card.stem, args.start_timeout, server)
        print(f"  serve start-up, until {url} is served: {title:.1f} s")
        for edit in range(1, args.edits + 1):
            time.sleep(1.5)  # let the watcher settle, as between an author's saves
            # A summary no earlier run saved: its pages' conversions cannot come from a cache taken from one.
            marker = f"Edited {FIELD[args.edit]} number {edit} of the preview benchmark run {run_id}."
            edit_field(card, FIELD[args.edit], marker)
            times.append(wait_for(url, marker, 300, server))
            print(f"  edit {edit}: {card.relative_to(project)} {FIELD[args.edit]} shown after {times[-1]:.2f} s")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    worst = max(times)
    verdict = "PASS" if worst <= TARGET_SECONDS else "FAIL"
    print(f"{verdict}: slowest edit shown after {worst:.2f} s (target <= {TARGET_SECONDS:.0f} s at 1,000 models)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
