# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark cases 13-17, where curvature matters: correlated, small, wide data.

These are the problems a first-order method in a diagonal metric finds hard: dense
log loss with correlated features (against the Newton-type solvers of
LogisticRegression), small problems at default settings (fixed costs), L1 logistic
regression, lasso on correlated designs (Lasso's own ground) and lasso with many
more features than samples. Each case function takes ``(case, quick, repeats)``.
"""

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import ElasticNetCV, Lasso, LogisticRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from benchmarks._cases import TARGET, TOLS, _race, _row
from benchmarks._common import (
    alternate,
    coef_error,
    fit_quiet,
    log_loss_objective,
    median,
    paired_ratio,
    paired_times,
    peak_extra_memory,
    primal,
    suboptimality,
)
from benchmarks._data import alpha_max, classification_dense, correlated_dense
from skgd import GDClassifier, GDRegressor, GDRegressorCV

CLF_TOLS = [1e-2, 1e-3] + TOLS


def _l1_log_loss_objective(X, y, coef, intercept, alpha, classes):
    """Return ``1/n sum_i logloss_i + alpha ||w||_1`` in float64 (binary)."""
    smooth = log_loss_objective(X, y, coef, intercept, 0.0, classes)
    return smooth + alpha * float(np.abs(np.asarray(coef, dtype=np.float64)).sum())


def _race_rows(case, size, makers, X, y, value, tols, repeats, *, targets):
    """Race ``makers`` to ``TARGET`` suboptimality; one row per counterpart.

    ``targets`` maps a counterpart's name to the largest ratio the case asks of skgd
    (None: report only).
    """
    best, w_star, chosen, fns = _race(makers, X, y, value, tols, ref_tol=1e-12)
    ests = {k: f() for k, f in fns.items()}
    times = alternate(fns, repeats)
    rows = []
    for k, limit in targets.items():
        pair = paired_times(fns, times, "skgd", k)
        r = paired_ratio(pair, "skgd", k)
        met = None if limit is None else r <= limit and chosen["skgd"][1] <= TARGET
        rows.append(
            _row(
                case,
                k,
                size,
                r,
                "report" if limit is None else f"<= {limit}x to 1e-6 subopt",
                met,
                skgd_subopt=suboptimality(value(ests["skgd"]), best),
                other_subopt=suboptimality(value(ests[k]), best),
                skgd_coef_err=coef_error(ests["skgd"].coef_, w_star),
                other_coef_err=coef_error(ests[k].coef_, w_star),
                tol=chosen["skgd"][0],
                other_tol=chosen[k][0],
                skgd_n_iter=int(np.max(ests["skgd"].n_iter_)),
                skgd_median_s=median(pair["skgd"]),
                other_median_s=median(pair[k]),
            )
        )
    return rows


def correlated_log_loss(case, quick, repeats, shapes=((5_000, 100), (20_000, 200))):
    """Dense binary log loss, L2, AR(1) rho 0.8: against lbfgs and newton-cholesky.

    ``shapes`` holds the ``(n_samples, n_features)`` of the quick and full runs.
    """
    n, p = shapes[0] if quick else shapes[1]
    X, y = classification_dense(n, p, 2, rho=0.8, seed=case)
    alpha = 1e-4
    C = 1.0 / (alpha * n)
    classes = np.unique(y)
    value = lambda est: log_loss_objective(
        X, y, est.coef_, est.intercept_, alpha, classes
    )
    makers = {
        "skgd": lambda tol: GDClassifier(alpha=alpha, tol=tol, max_iter=100_000),
        "LogisticRegression(lbfgs)": lambda tol: LogisticRegression(
            C=C, tol=tol, max_iter=100_000
        ),
        "LogisticRegression(newton-cholesky)": lambda tol: LogisticRegression(
            C=C, solver="newton-cholesky", tol=tol, max_iter=1_000
        ),
    }
    targets = {"LogisticRegression(lbfgs)": 1.0}
    targets["LogisticRegression(newton-cholesky)"] = 1.0
    size = f"{n}x{p}, rho 0.8, 2 classes"
    return _race_rows(
        case, size, makers, X, y, value, CLF_TOLS, repeats, targets=targets
    )


def small_defaults(case, quick, repeats):
    """Small dense classification at default settings, fixed costs included.

    Each estimator is fitted with its own defaults (the problems differ: C=1 against
    alpha=1e-4), as a new user would; the row reports both training accuracies.
    """
    rows = []
    for name, load in (("breast cancer", load_breast_cancer), ("digits", load_digits)):
        X, y = load(return_X_y=True)
        rows.append(_default_fit_row(case, name, StandardScaler().fit_transform(X), y))
    return rows


def _default_fit_row(case, name, X, y, repeats=7):
    """Time GDClassifier() against LogisticRegression() on ``(X, y)``: one row."""
    fns = {
        "skgd": lambda: fit_quiet(GDClassifier(), X, y),
        "LogisticRegression(lbfgs)": lambda: fit_quiet(LogisticRegression(), X, y),
    }
    ests = {k: f() for k, f in fns.items()}
    times = alternate(fns, repeats)
    r = paired_ratio(times, "skgd", "LogisticRegression(lbfgs)")
    return _row(
        case,
        "LogisticRegression(lbfgs)",
        f"{name} {X.shape[0]}x{X.shape[1]}, {np.unique(y).size} classes",
        r,
        "<= 2x at defaults",
        r <= 2.0,
        skgd_train_acc=float(np.mean(ests["skgd"].predict(X) == y)),
        other_train_acc=float(
            np.mean(ests["LogisticRegression(lbfgs)"].predict(X) == y)
        ),
        skgd_n_iter=int(np.max(ests["skgd"].n_iter_)),
        skgd_median_s=median(times["skgd"]),
        other_median_s=median(times["LogisticRegression(lbfgs)"]),
    )


def l1_log_loss(case, quick, repeats):
    """Dense L1 logistic regression: against saga and liblinear."""
    rows = []
    X, y = load_breast_cancer(return_X_y=True)
    data = [("breast cancer", StandardScaler().fit_transform(X), y)]
    n, p = (5_000, 50) if quick else (20_000, 100)
    data.append(("AR(1) rho 0.9", *classification_dense(n, p, 2, seed=case)))
    for name, X, y in data:
        rows += _l1_race(case, f"{name} {X.shape[0]}x{X.shape[1]}", X, y, repeats)
    return rows


def _l1_race(case, size, X, y, repeats, alpha=1e-2):
    """Race L1 logistic regression against saga and liblinear on ``(X, y)``.

    Both references visit coordinates (liblinear) or samples (saga) in a random
    order; a fixed ``random_state`` makes the tol each one is given, and so the
    ratio, the same from run to run.
    """
    classes = np.unique(y)
    C = 1.0 / (alpha * X.shape[0])
    value = lambda est: _l1_log_loss_objective(
        X, y, est.coef_, est.intercept_, alpha, classes
    )
    makers = {
        "skgd": lambda tol: GDClassifier(
            penalty="l1", alpha=alpha, tol=tol, max_iter=100_000
        ),
        "LogisticRegression(saga)": lambda tol: LogisticRegression(
            C=C,
            l1_ratio=1.0,
            solver="saga",
            tol=tol,
            max_iter=10_000,
            random_state=0,
        ),
        "LogisticRegression(liblinear)": lambda tol: LogisticRegression(
            C=C,
            l1_ratio=1.0,
            solver="liblinear",
            tol=tol,
            intercept_scaling=1e4,
            random_state=0,
        ),
    }
    targets = {"LogisticRegression(saga)": 0.5, "LogisticRegression(liblinear)": 1.0}
    return _race_rows(
        case, size, makers, X, y, value, CLF_TOLS, repeats, targets=targets
    )


def _lasso_race(case, size, X, y, alpha, repeats, limit):
    """Race ``GDRegressor(penalty="l1")`` against ``Lasso``: one row."""
    value = lambda est: primal(X, y, est.coef_, est.intercept_, alpha, 1.0)
    makers = {
        "skgd": lambda tol: GDRegressor(penalty="l1", alpha=alpha, tol=tol),
        "Lasso": lambda tol: Lasso(alpha=alpha, tol=tol, max_iter=100_000),
    }
    return _race_rows(
        case, size, makers, X, y, value, TOLS, repeats, targets={"Lasso": limit}
    )


def correlated_lasso(case, quick, repeats):
    """Dense lasso on AR(1) designs (rho 0.7 and 0.9), F order: Lasso's own ground."""
    n, p = (5_000, 500) if quick else (20_000, 2_000)
    rows = []
    for rho in (0.7, 0.9):
        X, y = correlated_dense(n, p, rho=rho, n_informative=p // 20, seed=case)
        X = np.asfortranarray(X)
        size = f"{n}x{p}, rho {rho}, F order"
        rows += _lasso_race(case, size, X, y, alpha_max(X, y) / 20, repeats, 0.7)
    return rows


def wide_lasso(case, quick, repeats):
    """Lasso with many more features than samples, peak memory; GDRegressorCV.

    GDRegressorCV runs on the wide shape and on 2,000 x 500 (taller than wide).
    """
    shapes = [(50, 5_000), (200, 2_000)] if quick else [(50, 20_000), (200, 5_000)]
    rows = []
    for n, p in shapes:
        X, y = correlated_dense(n, p, rho=0.5, n_informative=10, seed=case)
        alpha = alpha_max(X, y) / 10
        found = _lasso_race(case, f"{n}x{p}", X, y, alpha, repeats, 1.0)
        peak = peak_extra_memory(
            lambda X=X, y=y, alpha=alpha: fit_quiet(
                GDRegressor(penalty="l1", alpha=alpha), X, y
            )
        )
        found[0]["peak_extra_over_X"] = peak / X.nbytes
        found[0]["met"] = bool(found[0]["met"] and peak < X.nbytes)
        rows += found
    wide = (100, 2_000) if quick else (200, 5_000)
    for n, p in (wide, (2_000, 500)):
        rows.append(_cv_row(case, n, p, repeats))
    return rows


def _cv_row(case, n, p, repeats):
    """Time GDRegressorCV against ElasticNetCV on ElasticNetCV's grid: one row."""
    X, y = correlated_dense(n, p, rho=0.5, n_informative=10, seed=case)
    cv = KFold(5, shuffle=True, random_state=0)
    grid = ElasticNetCV(l1_ratio=0.5, cv=cv).fit(X, y).alphas_
    fns = {
        "skgd": lambda: fit_quiet(
            GDRegressorCV(l1_ratio=0.5, alphas=grid, cv=cv), X, y
        ),
        "ElasticNetCV": lambda: fit_quiet(
            ElasticNetCV(l1_ratio=0.5, alphas=grid, cv=cv), X, y
        ),
    }
    ests = {k: f() for k, f in fns.items()}
    times = alternate(fns, repeats)
    r = paired_ratio(times, "skgd", "ElasticNetCV")
    return _row(
        case,
        "ElasticNetCV",
        f"{n}x{p}, 100 alphas x 5 folds",
        r,
        "<= 1x",
        r <= 1.0,
        same_alpha=bool(np.isclose(ests["skgd"].alpha_, ests["ElasticNetCV"].alpha_)),
        alpha=float(ests["skgd"].alpha_),
        skgd_median_s=median(times["skgd"]),
        other_median_s=median(times["ElasticNetCV"]),
    )


CURVATURE_CASES = {
    13: lambda quick, repeats: correlated_log_loss(13, quick, repeats),
    14: lambda quick, repeats: small_defaults(14, quick, repeats),
    15: lambda quick, repeats: l1_log_loss(15, quick, repeats),
    16: lambda quick, repeats: correlated_lasso(16, quick, repeats),
    17: lambda quick, repeats: wide_lasso(17, quick, repeats),
}
