"""The rows modelcards explains, by the rule documented in modelcards.explain.compute, for tests that call
SHAP directly on the same sample."""

from __future__ import annotations

import numpy as np
import pandas as pd


def documented_sample(frame: pd.DataFrame, size: int, background: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample and the background rows."""
    rng = np.random.default_rng(seed)
    rows = len(frame)
    sample = np.sort(rng.choice(rows, size, replace=False)) if rows > size else np.arange(rows)
    drawn = np.sort(rng.choice(rows, min(background, rows), replace=False))
    return frame.iloc[sample], frame.iloc[drawn]
