# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Newton models of a dense numpy X from one pass over it.

``DenseBackend.gram_terms`` makes the weighted Gram matrix, the gradient's
product and the curvature sums of a Newton model from one pass over X: they
equal the backend's separate passes to rounding, and a run on them is
certified at the optimum. On data whose column means are within rounding of 0
(standardized) the Gram matrix is built about 0, in one elementwise pass per
block, and the model moved to the means under the curvature equals the one
built about the means.
"""

import numpy as np
import pytest

from skgd import GDClassifier
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import LogLoss
from skgd.penalties import L2
from skgd.solvers._newton_model import ModelSource


@pytest.mark.parametrize("n", [100, 5_000])
def test_gram_terms_equal_the_separate_passes(n):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 60)) + rng.uniform(-3, 3, 60)
    g, h, mean = rng.standard_normal(n), rng.uniform(0.0, 0.25, n), X.mean(axis=0)
    backend = get_backend(X)
    product, sum_g, s, a, G, values = backend.gram_terms(X, g, h, mean)
    assert values == []
    np.testing.assert_allclose(product, X.T @ g, rtol=1e-12, atol=1e-9)
    assert sum_g == pytest.approx(g.sum(), rel=1e-12)
    assert s == pytest.approx(h.sum(), rel=1e-12)
    np.testing.assert_allclose(a, (X - mean).T @ h, rtol=1e-12, atol=1e-9)
    expected = backend.weighted_gram(X, h, mean)
    np.testing.assert_allclose(G, expected, rtol=1e-12, atol=1e-9)


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


def test_gram_terms_about_zero_are_the_uncentered_products():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3_000, 40)) + rng.uniform(-3, 3, 40)
    g, h = rng.standard_normal(3_000), rng.uniform(0.0, 0.25, 3_000)
    product, sum_g, s, a, G, _ = get_backend(X).gram_terms(X, g, h, None)
    np.testing.assert_allclose(product, X.T @ g, rtol=1e-12, atol=1e-9)
    assert s == pytest.approx(h.sum(), rel=1e-12)
    np.testing.assert_allclose(a, X.T @ h, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(G, (X * h[:, None]).T @ X, rtol=1e-12, atol=1e-9)


def _source(X, y):
    objective = LinearObjective(get_backend(X), X, y, LogLoss(), L2(1e-3))
    source = ModelSource(objective, free_c=True)
    source.one_pass_terms()
    w = np.linspace(-0.5, 0.5, X.shape[1])
    return source, objective.raw(w, 0.3)


@pytest.mark.parametrize("offset", [0.0, 1e-9, 1e-7, 3.0])
def test_model_about_zero_equals_the_model_about_the_means(offset):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4_000, 30)) @ np.triu(np.ones((30, 30))) / 5
    X = (X - X.mean(axis=0)) / X.std(axis=0) + offset
    y = np.where(rng.random(4_000) < 0.4, 1.0, -1.0)
    source, raw = _source(X, y)
    # Standardized columns (means of 1e-17 their spread) are built about 0;
    # means above sqrt(eps) of the spread keep the centered blocks.
    assert (source.center is None) == (offset < 1e-8)
    model = source.model(None, raw)
    source.center = source.mean  # the same model, about the means
    centered = source.model(None, raw)
    np.testing.assert_allclose(model.H, centered.H, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.b, centered.b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.gw, centered.gw, rtol=1e-12, atol=1e-15)
    assert model.s == centered.s
    # And the Hessian is the weighted Gram matrix about the means under u h.
    hu = source.objective.u * LogLoss().hessian(y, raw)
    C = X - (hu @ X) / hu.sum()
    np.testing.assert_allclose(model.H, (C * hu[:, None]).T @ C, rtol=1e-11, atol=1e-14)


def test_a_fit_on_standardized_data_is_certified():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((6_000, 60)) @ np.triu(np.ones((60, 60))) / 10
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (X @ rng.standard_normal(60) / 5 + rng.logistic(size=6_000) > 0).astype(int)
    est = GDClassifier(alpha=1e-4, tol=1e-8).fit(X, y)
    p = 1.0 / (1.0 + np.exp(-(X @ est.coef_[0] + est.intercept_[0])))
    grad = X.T @ (p - y) / len(y) + 1e-4 * est.coef_[0]
    assert np.max(np.abs(grad)) < 1e-7
    assert abs(np.mean(p - y)) < 1e-7
