# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark case 21: GDClassifierCV against LogisticRegressionCV.

The same folds and the same grid (``alpha = 1 / (C n_train)``), each at its
defaults otherwise: an L2 grid (LogisticRegressionCV's lbfgs) and an L1 grid (its
saga). The ratio is skgd's time over scikit-learn's, the median of rounds timed
alternately in one process; each row says whether both chose the same C.
"""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from benchmarks._cases import _row, fit_quiet_search
from benchmarks._common import alternate, paired_ratio
from skgd import GDClassifierCV


def classifier_cv(case, quick, repeats):
    """Binary log loss, standardized ``make_classification``: L2 and L1 grids."""
    n, p, n_cs, k = (4_000, 30, 5, 3) if quick else (20_000, 50, 8, 5)
    X, y = make_classification(
        n, p, n_informative=p // 3, flip_y=0.05, random_state=case
    )
    X = StandardScaler().fit_transform(X)
    folds = list(KFold(k, shuffle=True, random_state=0).split(X))
    n_train = len(folds[0][0])
    cs = np.logspace(-3, 1, n_cs)
    rows = []
    for penalty, solver in (("l2", "lbfgs"), ("l1", "saga")):
        ours = lambda penalty=penalty: fit_quiet_search(
            lambda: GDClassifierCV(
                penalty=penalty, alphas=1.0 / (cs * n_train), cv=folds
            ).fit(X, y)
        )
        theirs = lambda penalty=penalty, solver=solver: fit_quiet_search(
            lambda: LogisticRegressionCV(
                Cs=cs,
                cv=folds,
                l1_ratios=(0.0 if penalty == "l2" else 1.0,),
                solver=solver,
                random_state=0,
                use_legacy_attributes=False,
            ).fit(X, y)
        )
        a, b = ours(), theirs()
        same = bool(np.isclose(a.alpha_, 1.0 / (b.C_ * n_train), rtol=1e-12))
        times = alternate({"skgd": ours, "sklearn": theirs}, repeats)
        rows.append(
            _row(
                case,
                f"LogisticRegressionCV({solver}), {penalty} grid",
                f"{n}x{p}, {n_cs} Cs x {k} folds",
                paired_ratio(times, "skgd", "sklearn"),
                "<= 1x",
                None,
                same_choice=same,
            )
        )
        rows[-1]["met"] = rows[-1]["ratio"] <= 1.0
    return rows


CLASSIFIER_CV_CASES = {21: lambda quick, repeats: classifier_cv(21, quick, repeats)}
