# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark case 18: Poisson regression with L2 against PoissonRegressor.

Both of PoissonRegressor's solvers (lbfgs and newton-cholesky) race skgd's default
(proximal Newton) to 1e-6 relative suboptimality of the same objective,
``1/n sum_i half_deviance_i + alpha/2 ||w||^2``, evaluated in float64.
"""

import numpy as np
from sklearn.linear_model import PoissonRegressor
from sklearn.preprocessing import StandardScaler

from benchmarks._cases import TOLS
from benchmarks._curvature import _race_rows
from benchmarks._data import correlated_dense
from skgd import GDRegressor


def poisson_objective(X, y, coef, intercept, alpha):
    """Return the mean half Poisson deviance plus ``alpha/2 ||w||^2``, in float64."""
    coef = np.asarray(coef, dtype=np.float64)
    raw = np.asarray(X, dtype=np.float64) @ coef + float(intercept)
    ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    deviance = ylogy - y * raw - y + np.exp(raw)
    return float(deviance.mean()) + 0.5 * alpha * float(coef @ coef)


def poisson_counts(n, p, seed):
    """Return standardized AR(1) features (rho 0.5) and Poisson counts of mean ~2."""
    X, _ = correlated_dense(n, p, rho=0.5, seed=seed)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(seed)
    coef = rng.standard_normal(p) / np.sqrt(p) * 0.5
    y = rng.poisson(np.exp(X @ coef + 0.5)).astype(np.float64)
    return X, y


def poisson_l2(case, quick, repeats):
    """Dense Poisson regression, L2 ``alpha=1e-3``: against both of its solvers."""
    n, p = (10_000, 50) if quick else (50_000, 100)
    X, y = poisson_counts(n, p, seed=case)
    alpha = 1e-3
    value = lambda est: poisson_objective(X, y, est.coef_, est.intercept_, alpha)
    makers = {
        "skgd": lambda tol: GDRegressor(loss="poisson", alpha=alpha, tol=tol),
        "PoissonRegressor(lbfgs)": lambda tol: PoissonRegressor(
            alpha=alpha, tol=tol, max_iter=10_000
        ),
        "PoissonRegressor(newton-cholesky)": lambda tol: PoissonRegressor(
            alpha=alpha, solver="newton-cholesky", tol=tol, max_iter=1_000
        ),
    }
    # Whichever of the two is faster: skgd must be at most as slow as each.
    targets = dict.fromkeys(list(makers)[1:], 1.0)
    size = f"{n}x{p}, AR(1) rho 0.5, standardized"
    return _race_rows(case, size, makers, X, y, value, TOLS, repeats, targets=targets)


GLM_CASES = {18: lambda quick, repeats: poisson_l2(18, quick, repeats)}
