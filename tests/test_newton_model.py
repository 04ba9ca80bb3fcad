# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Newton models of a dense numpy X: one pass, in halves on two threads.

``DenseBackend.gram_terms`` makes the weighted Gram matrix, the gradient's
product and the curvature sums of a Newton model from one pass over X; from
``_HALVES_MIN_ELEMENTS`` entries on it sums two halves of the rows, on two
threads while a fit holds the BLAS to one thread. The halves give the same bits
either way, and the terms equal the backend's separate passes to rounding.
"""

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skgd import GDClassifier
from skgd._backend import _dense, fit_threads, get_backend


def _data(n=5_000, p=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-3, 3, p)
    g = rng.standard_normal(n)
    h = rng.uniform(0.0, 0.25, n)
    return X, g, h, X.mean(axis=0)


@pytest.mark.parametrize("n", [100, 5_000])
def test_gram_terms_equal_the_separate_passes(n):
    X, g, h, mean = _data(n)
    backend = get_backend(X)
    product, sum_g, s, a, G, values = backend.gram_terms(X, g, h, mean)
    assert values == []
    np.testing.assert_allclose(product, X.T @ g, rtol=1e-12, atol=1e-9)
    assert sum_g == pytest.approx(g.sum(), rel=1e-12)
    assert s == pytest.approx(h.sum(), rel=1e-12)
    np.testing.assert_allclose(a, (X - mean).T @ h, rtol=1e-12, atol=1e-9)
    expected = backend.weighted_gram(X, h, mean)
    np.testing.assert_allclose(G, expected, rtol=1e-12, atol=1e-9)


def test_halves_give_the_same_bits_on_one_thread_or_two(monkeypatch):
    X, g, h, mean = _data()
    assert X.size >= _dense._HALVES_MIN_ELEMENTS
    backend = get_backend(X)
    monkeypatch.setattr(_dense, "_HALVES_STATE", [0.0, 1.0, 1.0])
    with fit_threads(X):
        assert _dense.ONE_BLAS_THREAD[0]
        concurrent = backend.gram_terms(X, g, h, mean)
    with threadpool_limits(1):  # (the same BLAS, without the flag)
        assert not _dense.ONE_BLAS_THREAD[0]
        sequential = backend.gram_terms(X, g, h, mean)
    for got, expected in zip(concurrent, sequential, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_the_flag_follows_the_fit_limit():
    X = np.ones((5_000, 60))
    assert not _dense.ONE_BLAS_THREAD[0]
    with fit_threads(X):
        assert _dense.ONE_BLAS_THREAD[0]
    assert not _dense.ONE_BLAS_THREAD[0]


@pytest.mark.parametrize("concurrent", [True, False])
def test_an_error_in_the_second_half_is_raised(monkeypatch, concurrent):
    monkeypatch.setattr(_dense, "_HALVES_STATE", [0.0, 1.0, 1.0])

    def rows(start, stop):
        if start:
            raise FloatingPointError("second half")
        return (np.zeros(2),)

    with pytest.raises(FloatingPointError, match="second half"):
        _dense._in_halves(rows, 5, 10, concurrent)


def test_busy_cores_pause_the_second_thread(monkeypatch):
    # A half that waits (sleeps) runs far less than its wall time: busy cores.
    monkeypatch.setattr(_dense, "_HALVES_STATE", [0.0, 1.0, 1.0])
    threads = []

    def rows(start, stop):
        threads.append(threading.current_thread())
        time.sleep(0.01)
        return (np.ones(1),)

    assert _dense._in_halves(rows, 5, 10, True)[0][0] == 2.0
    assert len(set(threads)) == 2
    threads.clear()
    _dense._in_halves(rows, 5, 10, True)
    assert len(set(threads)) == 1
    # Past the pause, the calling thread's low share of the time (it slept)
    # still keeps the second thread off.
    _dense._HALVES_STATE[0] = 0.0
    threads.clear()
    _dense._in_halves(rows, 5, 10, True)
    assert len(set(threads)) == 1


def test_a_fit_on_the_one_pass_models_is_certified():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6_000, 50)) @ np.triu(np.ones((50, 50))) / 10
    y = (X @ rng.standard_normal(50) + rng.logistic(size=6_000) > 0).astype(int)
    est = GDClassifier(alpha=1e-4, tol=1e-8).fit(X, y)
    assert np.max(est.n_iter_) < 20
    # The gradient of the objective vanishes at the optimum.
    p = 1.0 / (1.0 + np.exp(-(X @ est.coef_[0] + est.intercept_[0])))
    grad = X.T @ (p - y) / len(y) + 1e-4 * est.coef_[0]
    assert np.max(np.abs(grad)) < 1e-6
    assert abs(np.mean(p - y)) < 1e-6
