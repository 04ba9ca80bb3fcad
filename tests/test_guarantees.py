# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Guarantees beyond correctness: atomic fits, thread-safe prediction, determinism,
and the memory of the stochastic solvers."""

import gc
import pickle
import sys
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from _data import make_problem
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

# Private seams on purpose: faults are injected into the solver and a step rule.
import skgd._base
import skgd.optimizers._rules
from skgd import GDClassifier, GDRegressor


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(
    ("make_estimator", "data", "refit_y"),
    [
        # The regressor's refit is on other targets; the classifier's on other
        # classes (2 of 3), a refit that does not continue the previous one and
        # sets coef_ aside while it runs.
        (
            lambda: GDRegressor(penalty="l1", alpha=0.01),
            lambda: make_problem(0, 200, 10),
            np.negative,
        ),
        (lambda: GDClassifier(alpha=0.01), _iris, lambda y: y),
    ],
    ids=["regressor", "classifier"],
)
def test_guarantees_interrupted_fit_leaves_previous_model_unchanged(
    monkeypatch, make_estimator, data, refit_y
):
    X, y = data()
    est = make_estimator().fit(X, y)
    before = {k: np.copy(v) for k, v in vars(est).items() if k.endswith("_")}
    original = skgd._base.full_batch_solver

    def interrupted(*args):
        name, solve = original(*args)

        def stop(iteration, w, value):
            if iteration == 1:
                raise KeyboardInterrupt

        return name, lambda *a, **kw: solve(*a, **{**kw, "callback": stop})

    monkeypatch.setattr(skgd._base, "full_batch_solver", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.set_params(alpha=1.0).fit(X[:100], refit_y(y[:100]))
    after = {k: v for k, v in vars(est).items() if k.endswith("_")}
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_guarantees_concurrent_predict_equals_serial():
    X, y = make_problem(1, 500, 20)
    est = GDRegressor(penalty="elasticnet").fit(X, y)
    chunks = np.array_split(np.tile(X, (20, 1)), 40)
    serial = [est.predict(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(est.predict, chunks))
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("loss", ["squared_error", "huber", "epsilon_insensitive"])
def test_guarantees_fits_are_bit_identical_and_survive_pickling(loss):
    X, y = make_problem(2, 150, 8)
    kw = {"loss": loss, "penalty": "l1", "alpha": 0.01, "max_iter": 5000}
    fits = [GDRegressor(**kw).fit(X, y) for _ in "ab"]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].intercept_ == fits[1].intercept_
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    again = pickle.loads(pickle.dumps(fits[0]))
    np.testing.assert_array_equal(again.predict(X), fits[0].predict(X))


def _same(a, b):
    """Whether two attribute values are bit-identical, recursing into containers."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray | np.generic | float):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, np.random.RandomState):
        return _same(a.get_state(legacy=False), b.get_state(legacy=False))
    return a == b


def _state(est):
    """Every attribute of ``est`` (fitted, private and parameters alike)."""
    return dict(vars(est))


def _assert_same_state(a, b):
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    assert [k for k in sa if not _same(sa[k], sb[k])] == []


@pytest.mark.parametrize(("solver", "rule"), [("sgd", "Momentum"), ("adam", "Adam")])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_guarantees_interrupted_stochastic_fit_leaves_state_unchanged(
    monkeypatch, solver, rule, method
):
    X, y = make_problem(3, 300, 6)
    kw = {"solver": solver, "random_state": 0, "batch_size": 16, "max_iter": 3}
    est = GDRegressor(**kw, tol=None).fit(X, y).partial_fit(X, y)
    before = pickle.loads(pickle.dumps(est))
    cls = getattr(skgd.optimizers._rules, rule)
    original, calls = cls.update, []

    def interrupted(self, grad, state, eta):
        calls.append(1)
        if len(calls) == 5:  # mid-epoch, after four updates of the new fit
            raise KeyboardInterrupt
        return original(self, grad, state, eta)

    monkeypatch.setattr(cls, "update", interrupted)
    with pytest.raises(KeyboardInterrupt):
        getattr(est.set_params(alpha=0.5, warm_start=True), method)(X, -y)
    _assert_same_state(est.set_params(alpha=1e-4, warm_start=False), before)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("average", [False, 50])
def test_guarantees_stochastic_fits_are_bit_identical(solver, average):
    X, y = make_problem(4, 300, 8)
    kw = {"solver": solver, "average": average, "random_state": 7, "batch_size": 10}
    kw.update(penalty="elasticnet", max_iter=5, tol=None)
    a = GDRegressor(**kw).fit(X, y).partial_fit(X[:50], y[:50])
    b = GDRegressor(**kw).fit(X, y).partial_fit(X[:50], y[:50])
    _assert_same_state(a, b)
    c = GDRegressor(**{**kw, "random_state": 8}).fit(X, y)
    assert not np.array_equal(c.coef_, a.coef_)  # the seed does matter


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("seed", [0, "instance"])
def test_guarantees_pickling_mid_stream_continues_bit_identically(solver, seed):
    X, y = make_problem(5, 400, 8)
    batches = np.array_split(np.arange(400), 4)
    rs = np.random.RandomState(0) if seed == "instance" else seed
    kw = {"solver": solver, "random_state": rs, "batch_size": 16, "average": 20}
    est = GDRegressor(**kw)
    for idx in batches[:2]:
        est.partial_fit(X[idx], y[idx])
    copy = pickle.loads(pickle.dumps(est))
    for idx in batches[2:]:
        est.partial_fit(X[idx], y[idx])
        copy.partial_fit(X[idx], y[idx])
    _assert_same_state(est, copy)
    assert len(est.loss_curve_) == 4


def _peak(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shuffle", [True, False])
def test_guarantees_stochastic_solvers_do_not_copy_dense_x(
    solver, order, dtype, shuffle
):
    rng = np.random.default_rng(0)
    n = 20_000
    X = np.asarray(rng.normal(size=(n, 50)), dtype=dtype, order=order)
    y = X[:, 0] + rng.normal(size=n)
    s = rng.uniform(0.5, 1.5, size=n)
    kw = {"solver": solver, "shuffle": shuffle, "max_iter": 2, "tol": None}
    est = GDRegressor(**kw, batch_size=256, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        peak = _peak(lambda: est.fit(X, y, sample_weight=s).predict(X))
        peak_partial = _peak(lambda: est.partial_fit(X, y, sample_weight=s))
    assert est.coef_.dtype == dtype
    # n-vectors (weights, predictions, a permutation) and batch-sized gathers only.
    assert peak < 0.3 * X.nbytes
    assert peak_partial < 0.3 * X.nbytes


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_guarantees_stochastic_solvers_never_densify_sparse_x(monkeypatch, solver, fmt):
    X = sp.random(200, 8, density=0.2, format=fmt, random_state=0)
    y = np.arange(200.0)

    def forbidden(*args, **kwargs):
        raise AssertionError("sparse X was densified")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):
        monkeypatch.setattr(cls, "toarray", forbidden)
        monkeypatch.setattr(cls, "todense", forbidden)
    kw = {"solver": solver, "penalty": "l1", "random_state": 0, "max_iter": 3}
    est = GDRegressor(**kw, tol=None, early_stopping=True, batch_size=32)
    est.fit(X, y).partial_fit(X, y).predict(X)
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("sparse", [False, True])
def test_guarantees_stochastic_solvers_keep_float32(solver, sparse):
    X64, y = make_problem(6, 200, 5)
    X = X64.astype(np.float32)
    X = sp.csr_matrix(X) if sparse else X
    kw = {"solver": solver, "random_state": 0, "max_iter": 3, "tol": None}
    est = GDRegressor(**kw, average=10).fit(X, y).partial_fit(X, y)
    state = est._minibatch_state
    arrays = [est.coef_, est.intercept_, est.predict(X), state["coef"]]
    arrays += [state["intercept"], est._average_coef, est._standard_coef]
    for s in state["states"]:
        arrays += [s.average, *[a for a in s.rule if hasattr(a, "dtype")]]
    assert [a.dtype for a in arrays] == [np.float32] * len(arrays)


def _settle():
    """Free what is unreachable, and what CPython's type cache alone keeps.

    The cache of attribute lookups on types holds a reference to the name of
    each of its up to 4,096 entries, and a name built at run time (skgd's
    contract checks use literal names for this reason; other libraries may
    not) is a new string per call: the strings fill the cache over a
    few thousand calls (about 30 kB after 200 calls where nothing else grew)
    and then stay at its size. Whether it is full depends on what ran before,
    not on the calls measured.
    """
    gc.collect()
    # (Python 3.13 renamed it, and clears other caches with it.)
    clear = getattr(sys, "_clear_internal_caches", None) or sys._clear_type_cache
    clear()


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_guarantees_partial_fit_memory_does_not_grow_with_calls(solver):
    X, y = make_problem(7, 64, 10)
    est = GDRegressor(solver=solver, random_state=0, batch_size=16, average=8)
    for _ in range(10):  # warm up caches (sklearn's config, numpy's allocator)
        est.partial_fit(X, y)
    _settle()
    tracemalloc.start()
    try:
        for _ in range(10):  # the state is now wholly allocated under tracing
            est.partial_fit(X, y)
        _settle()
        at_20 = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            est.partial_fit(X, y)
        _settle()
        at_220 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # loss_curve_ is the only thing allowed to grow: one float (24 bytes) and its
    # list slot (8) per call. The constant covers numpy's cache of freed small
    # blocks, which tracemalloc still counts (measured: 2-10 kB, filled once, at
    # fewer sites than calls), and the estimator's __dict__, which its attributes
    # removed and set again make reallocate (1.5 kB). A leaked coefficient-sized
    # array per call (about 190 bytes) would exceed it.
    assert len(est.loss_curve_) == 220
    assert at_220 - at_20 < 200 * 32 + 16384


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_guarantees_y_too_large_for_float32_is_named(solver):
    # Regression: y cast to float32 X's dtype became inf and the error blamed the
    # step size; it now names the overflow of y.
    X = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)
    y = np.linspace(-1.0, 1.0, 30) * 1e39
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own overflow note
        with pytest.raises(ValueError, match="too large for float32"):
            GDRegressor(solver=solver, max_iter=3).fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_guarantees_overflowing_start_is_not_blamed_on_the_step(solver):
    # Regression: a y whose squares overflow float64 gave "diverged ... use a smaller
    # eta0" before any step. Such a y is now fitted (scaled internally); a start
    # whose X @ coef_init overflows is reported as such, not as a step size.
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.linspace(-1.0, 1.0, 30)
    est = GDRegressor(solver=solver, max_iter=3, tol=None)
    assert np.all(np.isfinite(est.fit(X, y * 1e160).coef_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own overflow note
        with pytest.raises(ValueError, match="before its first step") as info:
            est.fit(X, y, coef_init=np.full(3, 1e160))
    assert "overflows float64" in str(info.value)
    assert "eta0" not in str(info.value)
