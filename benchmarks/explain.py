"""SHAP for 10,000 rows x 20 features of a 100-tree depth-3 GBM: bare shap vs Signoff, side by side.

The reference is ``shap.TreeExplainer(model)(X)``; Signoff's ``run_explanation`` does the same TreeSHAP
plus chunked progress/cancel, the additivity check against the model's own output, the bootstrap
intervals and the direction summary. Targets (issue 5): Signoff under 1 s, overhead under 10%.
Run: ``PYTHONPATH=app .venv/bin/python benchmarks/explain.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd
import shap
from sklearn.ensemble import GradientBoostingClassifier

from signoff.analysis.explain import run_explanation

ROWS, FEATURES, REPEATS = 10_000, 20, 9


def main() -> None:
    rng = np.random.default_rng(0)
    names = [f"x{i}" for i in range(FEATURES)]
    x = rng.normal(size=(ROWS, FEATURES))
    y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(size=ROWS) > 0).astype(int)
    log = pd.DataFrame(x, columns=names)
    log["sex"] = rng.choice(["Female", "Male"], size=ROWS)
    log["race"] = rng.choice(["A", "B", "C"], size=ROWS)
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0).fit(x, y)

    def bare() -> None:
        shap.TreeExplainer(model)(x)

    def signoff() -> None:
        run_explanation(model, log, features=names, sample_size=ROWS)

    def signoff_segments() -> None:
        run_explanation(model, log, features=names, sample_size=ROWS, sensitive=["sex", "race"])

    bare(), signoff()  # warm up imports and caches
    timings: dict[str, list[float]] = {"bare": [], "signoff": [], "segments": []}
    for _ in range(REPEATS):  # interleaved, so drift in machine load hits all alike
        for name, run in (("bare", bare), ("signoff", signoff), ("segments", signoff_segments)):
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
    best = {name: min(values) for name, values in timings.items()}
    median = {name: statistics.median(values) for name, values in timings.items()}
    result = run_explanation(model, log, features=names, sample_size=ROWS)
    print(f"SHAP of {ROWS:,} rows x {FEATURES} features, GBM 100 trees depth 3; best / median of {REPEATS}")
    print(f"  bare shap.TreeExplainer(model)(X)       {best['bare']:.3f} s / {median['bare']:.3f} s")
    print(
        f"  signoff run_explanation                 {best['signoff']:.3f} s / {median['signoff']:.3f} s"
        f"   overhead {best['signoff'] / best['bare'] - 1:+.1%} (best) {median['signoff'] / median['bare'] - 1:+.1%} (median)"
    )
    print(
        f"  + segments sex, race, sex&race          {best['segments']:.3f} s / {median['segments']:.3f} s"
        f"   overhead {best['segments'] / best['bare'] - 1:+.1%} (best)"
    )
    print(f"  stages of one signoff run (s): {result.settings.timings}")
    print(
        f"  cost estimate before running: {result.settings.estimate.seconds:.3f} s ({result.settings.estimate.formula})"
    )


if __name__ == "__main__":
    main()
