# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Threads: a fit is bit-identical whatever other threads do, and its BLAS limit.

Each fit runs once beside an idle thread, then again in the main thread while
one thread runs large BLAS products and another fits other skgd models. A fit
changes the BLAS thread limit, which OpenBLAS keeps for the whole process, only
when no other thread exists (see ``skgd._backend._threads``): since OpenBLAS's
sums depend on its thread count in the last bits, a fit that lowered it beside
other threads would change the bits of the products running in them, and one
that ran while another fit lowered it would get other bits itself. Alone, on one
BLAS thread, a fit may differ from the same fit beside threads in the last bits.
"""

import itertools
import threading
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from skgd import GDClassifier, GDRegressor
from skgd._backend import _threads, get_backend
from skgd._backend._dense import _THREADED_PRODUCT_ELEMENTS, solve_spd
from skgd._base import GDBase
from skgd._objective import LinearObjective
from skgd.losses import LogLoss
from skgd.penalties import L2
from skgd.solvers._lbfgs import solve_lbfgs

# Tall enough that every product of X is above OpenBLAS's size for threads.
N_SAMPLES, N_FEATURES = 6_000, 100


def _classification(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    X[:, 1:] += 0.7 * X[:, :-1]  # correlated columns: some curvature to undo
    w = rng.standard_normal(N_FEATURES) / np.sqrt(N_FEATURES)
    y = (X @ w + 0.5 * rng.standard_normal(N_SAMPLES) > 0).astype(float)
    return X, y


def _lasso_problem(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((500, 1_200))
    w = np.zeros(1_200)
    w[:10] = rng.standard_normal(10)
    return X, X @ w + 0.1 * rng.standard_normal(500)


def _estimator_fit(est, X, y):
    est.fit(X, y)
    return est.coef_.copy(), np.copy(est.intercept_), np.copy(est.n_iter_)


def _lbfgs_fit(X, y):
    objective = LinearObjective(get_backend(X), X, y, LogLoss(), L2(1e-3))
    res = solve_lbfgs(
        objective,
        np.zeros(objective.coef_shape),
        objective.initial_offset(),
        max_iter=100,
        tol=1e-6,
    )
    return np.copy(res.coef), np.copy(res.intercept), np.asarray(res.n_iter)


X_CLF, Y_CLF = _classification(0)
X_LASSO, Y_LASSO = _lasso_problem(1)
FITS = {
    "gd": lambda: _estimator_fit(
        GDClassifier(alpha=1e-3, solver="gd", tol=1e-5, max_iter=5_000),
        X_CLF,
        Y_CLF,
    ),
    "newton": lambda: _estimator_fit(
        GDClassifier(alpha=1e-4, solver="newton", tol=1e-10), X_CLF, Y_CLF
    ),
    "lbfgs": lambda: _lbfgs_fit(X_CLF, Y_CLF),
    "sgd": lambda: _estimator_fit(
        GDClassifier(alpha=1e-3, solver="sgd", random_state=0, max_iter=5, tol=None),
        X_CLF,
        Y_CLF,
    ),
    "working_set_lasso": lambda: _estimator_fit(
        GDRegressor(penalty="l1", alpha=0.05, solver="gd", tol=1e-8),
        X_LASSO,
        Y_LASSO,
    ),
}


def _busy_blas(stop):
    """Large matrix products until told to stop."""
    A = np.random.default_rng(2).standard_normal((300, 300))
    while not stop.is_set():
        A = A @ A
        A /= np.abs(A).max()


def _busy_skgd(stop):
    """Other skgd fits (dense Gram, Newton, L-BFGS paths) until told to stop."""
    X, y = _classification(3)
    fits = [
        lambda: GDClassifier(alpha=1e-3).fit(X, y),
        lambda: GDRegressor(alpha=1e-3).fit(X, X @ np.ones(N_FEATURES)),
        lambda: _lbfgs_fit(X, y),
    ]
    for i in itertools.count():
        if stop.is_set():
            return
        fits[i % len(fits)]()


def _beside_idle_thread(fn):
    """Return ``fn()`` run while another thread of the process waits."""
    stop = threading.Event()
    idle = threading.Thread(target=stop.wait)
    idle.start()
    try:
        return fn()
    finally:
        stop.set()
        idle.join()


@pytest.mark.parametrize("name", list(FITS))
def test_fit_bit_identical_while_other_threads_run(name):
    fit = FITS[name]
    alone = _beside_idle_thread(fit)
    stop = threading.Event()
    busy = (_busy_blas, _busy_skgd)
    others = [threading.Thread(target=f, args=(stop,)) for f in busy]
    for thread in others:
        thread.start()
    try:
        crowded = [fit() for _ in range(2)]
    finally:
        stop.set()
        for thread in others:
            thread.join()
    for run in crowded:
        for got, expected in zip(run, alone, strict=True):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200, 256, 300])
def test_solve_spd_equals_a_direct_solve(n):
    # The blocked Cholesky that keeps Newton's solves on the calling thread (up to
    # 256 rows; above, LAPACK's solve), on a system of condition number below 100.
    rng = np.random.default_rng(n)
    M = rng.standard_normal((n, 2 * n + 3))
    A = M @ M.T / n + 1e-4 * np.eye(n)
    b = rng.standard_normal((n, 2))
    expected = np.linalg.solve(A, b)
    np.testing.assert_allclose(solve_spd(A, b), expected, rtol=1e-10, atol=0)
    np.testing.assert_allclose(solve_spd(A, b[:, 0]), expected[:, 0], rtol=1e-10)


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _spy_fit_gd(monkeypatch, *, fail=False):
    """Record the BLAS thread counts each full-batch solve starts with."""
    seen = []
    solve = GDBase._fit_gd

    def spy(self, *args, **kwargs):
        seen.append(_blas_threads())
        if fail:
            raise FloatingPointError("a failing solve")
        return solve(self, *args, **kwargs)

    monkeypatch.setattr(GDBase, "_fit_gd", spy)
    return seen


def test_fit_alone_runs_on_one_blas_thread_and_restores_the_limit(monkeypatch):
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    before = _blas_threads()
    seen = _spy_fit_gd(monkeypatch)
    alone = GDClassifier(alpha=1e-4, solver="newton", tol=1e-10).fit(X_CLF, Y_CLF)
    assert seen == [[1] * len(before)]
    assert _blas_threads() == before
    # Beside other threads (the limit untouched) the same fit, to rounding.
    crowded = _beside_idle_thread(
        lambda: GDClassifier(alpha=1e-4, solver="newton", tol=1e-10).fit(X_CLF, Y_CLF)
    )
    assert seen[1] == before
    np.testing.assert_allclose(crowded.coef_, alone.coef_, rtol=1e-10, atol=1e-12)


def test_failed_fit_restores_the_blas_limit(monkeypatch):
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    before = _blas_threads()
    seen = _spy_fit_gd(monkeypatch, fail=True)
    with pytest.raises(FloatingPointError, match="a failing solve"):
        GDRegressor(alpha=1e-3).fit(X_CLF, Y_CLF)
    assert seen == [[1] * len(before)]
    assert _blas_threads() == before


def test_fit_on_a_worker_thread_leaves_the_blas_limit(monkeypatch):
    before = _blas_threads()
    seen = _spy_fit_gd(monkeypatch)
    errors = []

    def fit():
        try:
            GDRegressor(alpha=1e-3).fit(X_CLF, Y_CLF)
        except Exception as exc:  # (reported by the main thread)
            errors.append(exc)

    worker = threading.Thread(target=fit)
    worker.start()
    worker.join()
    assert not errors
    assert seen == [before]
    assert _blas_threads() == before


def test_large_or_wide_fits_leave_the_blas_limit(monkeypatch):
    before = _blas_threads()
    seen = _spy_fit_gd(monkeypatch)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        GDRegressor(alpha=1e-1, max_iter=5).fit(X, X[:, 0])
    assert seen == [before]


def _spy_lbfgs_minimize(monkeypatch):
    """Record the BLAS thread counts scipy's L-BFGS-B starts with, per call."""
    from skgd.solvers import _lbfgs

    seen = []
    minimize = _lbfgs.minimize

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return minimize(*args, **kwargs)

    monkeypatch.setattr(_lbfgs, "minimize", spy)
    return seen


def test_wide_lbfgs_fit_alone_runs_scipy_on_one_blas_thread(monkeypatch):
    # Wider than a serial fit (fit_threads leaves the limit), routed to L-BFGS:
    # scipy's iterations run on one BLAS thread, and the limit comes back after;
    # beside another thread the limit is left, and the fit agrees to rounding.
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2_000, 300))
    y = (X[:, :10].sum(axis=1) + rng.standard_normal(2_000) > 0).astype(float)
    before = _blas_threads()
    seen = _spy_lbfgs_minimize(monkeypatch)
    alone = GDClassifier(alpha=1e-3, tol=1e-10).fit(X, y)
    assert seen == [[1] * len(before)]
    assert _blas_threads() == before
    crowded = _beside_idle_thread(lambda: GDClassifier(alpha=1e-3, tol=1e-10).fit(X, y))
    assert seen[1] == before
    np.testing.assert_allclose(crowded.coef_, alone.coef_, rtol=1e-6, atol=1e-9)


def test_failed_lbfgs_run_restores_the_blas_limit(monkeypatch):
    from skgd.solvers import _lbfgs

    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    before = _blas_threads()

    def fail(*args, **kwargs):
        raise FloatingPointError("a failing run")

    monkeypatch.setattr(_lbfgs, "minimize", fail)
    with pytest.raises(FloatingPointError, match="a failing run"):
        _lbfgs_fit(X_CLF, Y_CLF)
    assert _blas_threads() == before
    assert not _threads._REPLACED


def test_product_threads_gives_large_products_the_replaced_limits():
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    before = _blas_threads()
    small = np.ones((10, 10))
    # (a view of one value: only the shape counts)
    large = np.broadcast_to(0.0, (1, _THREADED_PRODUCT_ELEMENTS + 1))
    with _threads.product_threads(large):
        assert _blas_threads() == before  # (outside serial_solver: no change)
    with _threads.serial_solver(small):
        assert _blas_threads() == [1] * len(before)
        with _threads.product_threads(small):
            assert _blas_threads() == [1] * len(before)
        with _threads.product_threads(large):
            assert _blas_threads() == before
        assert _blas_threads() == [1] * len(before)
        with _threads.serial_solver(small):  # (nested: the outer limit holds)
            assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before
    assert not _threads._REPLACED


def test_lbfgs_products_above_the_threaded_size_keep_the_process_threads(monkeypatch):
    # Inside serial_solver the passes over an X above _THREADED_PRODUCT_ELEMENTS
    # (made small here) run on the threads the process had; scipy's own calls,
    # between them, on one.
    from skgd._backend._dense import DenseBackend

    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    monkeypatch.setattr(_threads, "_THREADED_PRODUCT_ELEMENTS", 1_000)
    before = _blas_threads()
    in_products = []
    matvec = DenseBackend.matvec

    def spy(self, X, w):
        in_products.append(_blas_threads())
        return matvec(self, X, w)

    monkeypatch.setattr(DenseBackend, "matvec", spy)
    in_scipy = _spy_lbfgs_minimize(monkeypatch)
    _lbfgs_fit(X_CLF, Y_CLF)
    assert in_scipy == [[1] * len(before)]
    assert in_products
    assert all(seen == before for seen in in_products)
    assert _blas_threads() == before


def _spy_solve_path(monkeypatch, record):
    """Return the list of ``record(objective)`` at each solve of a path."""
    import skgd._path as path_module

    seen = []
    solve = path_module._solve_path

    def spy(objective, *args):
        seen.append(record(objective))
        return solve(objective, *args)

    monkeypatch.setattr(path_module, "_solve_path", spy)
    return seen


def test_cv_folds_and_path_run_on_one_blas_thread(monkeypatch):
    # Each fold of GDRegressorCV (sequential) and gd_path solve their path with
    # numpy's BLAS limited to one thread, as a fit does; the limit is restored,
    # and a path on a worker thread leaves it.
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    from skgd import GDRegressorCV, gd_path

    before = _blas_threads()
    seen = _spy_solve_path(monkeypatch, lambda objective: _blas_threads())
    X, y = X_CLF[:600, :20], X_CLF[:600, :20] @ np.arange(20.0)
    GDRegressorCV(alphas=5, cv=3).fit(X, y)
    assert seen[:3] == [[1] * len(before)] * 3
    gd_path(X, y, alphas=5)
    assert seen[-1] == [1] * len(before)
    assert _blas_threads() == before
    worker = threading.Thread(target=lambda: gd_path(X, y, alphas=5))
    worker.start()
    worker.join()
    assert seen[-1] == before


def test_gram_path_up_to_512_features_runs_on_one_blas_thread(monkeypatch):
    # A path in the Gram form makes small calls up to 512 columns: one BLAS
    # thread, where a plain fit that wide keeps the limit; a path in the sample
    # form (more columns than rows) keeps it too, and the limit comes back.
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process")
    from skgd import gd_path

    before = _blas_threads()
    seen = _spy_solve_path(monkeypatch, lambda obj: (obj.form, _blas_threads()))
    rng = np.random.default_rng(6)
    tall = rng.standard_normal((1_000, 500))
    gd_path(tall, tall[:, :5].sum(axis=1), l1_ratio=0.5, alphas=8)
    assert seen[-1] == ("gram", [1] * len(before))
    wide = rng.standard_normal((200, 500))
    gd_path(wide, wide[:, :5].sum(axis=1), l1_ratio=0.5, alphas=8)
    assert seen[-1] == ("samples", before)
    assert _blas_threads() == before
