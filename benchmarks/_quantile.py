# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark case 19: quantile regression with L1 against QuantileRegressor (HiGHS).

The objective is the mean pinball loss plus ``alpha ||w||_1``; QuantileRegressor
solves it as a linear program whose cost grows fast with the number of samples, and
skgd by interior points (one weighted Gram matrix per step, a few tens of steps).
The race is the time to 1e-6 relative suboptimality of the objective (coefficients
of a linear program may be non-unique), at q = 0.5 and 0.9 on 10,000 x 50
(``--quick``) and on 10,000 x 50 and 100,000 x 50 (full). Each case function takes
``(quick, repeats)``.
"""

import numpy as np
from sklearn.linear_model import QuantileRegressor

from benchmarks._cases import TOLS
from benchmarks._curvature import _race_rows
from benchmarks._data import correlated_dense
from skgd import GDRegressor

ALPHA = 1e-3


def _pinball_objective(X, y, coef, intercept, q, alpha):
    """Return ``1/n sum_i rho_q(y_i - x_i.w - b) + alpha ||w||_1`` in float64."""
    w = np.asarray(coef, dtype=np.float64)
    r = y - X @ w - float(intercept)
    return float(np.mean(np.maximum(q * r, (q - 1.0) * r)) + alpha * np.abs(w).sum())


def quantile_l1(case, quick, repeats):
    """Dense L1 quantile regression, q = 0.5 and 0.9, against QuantileRegressor."""
    shapes = [(10_000, 50)] if quick else [(10_000, 50), (100_000, 50)]
    rows = []
    for n, p in shapes:
        X, y = correlated_dense(n, p, rho=0.5, n_informative=p // 5, seed=case)
        for q in (0.5, 0.9):
            value = lambda est, X=X, y=y, q=q: _pinball_objective(
                X, y, est.coef_, est.intercept_, q, ALPHA
            )
            makers = {
                "skgd": lambda tol, q=q: GDRegressor(
                    loss="quantile",
                    quantile=q,
                    penalty="l1",
                    alpha=ALPHA,
                    tol=tol,
                    max_iter=100_000,
                ),
                # A linear program: no tolerance to choose.
                "QuantileRegressor(highs)": lambda tol, q=q: QuantileRegressor(
                    quantile=q, alpha=ALPHA, solver="highs"
                ),
            }
            rows += _race_rows(
                case,
                f"{n}x{p}, q={q}",
                makers,
                X,
                y,
                value,
                TOLS,
                repeats,
                targets={"QuantileRegressor(highs)": 0.2},
            )
    return rows


QUANTILE_CASES = {19: lambda quick, repeats: quantile_l1(19, quick, repeats)}
