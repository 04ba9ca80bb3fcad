# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Newton models of a dense numpy X from one pass over it.

``DenseBackend.gram_terms`` makes the weighted Gram matrix, the gradient's
product and the curvature sums of a Newton model from one pass over X: they
equal the backend's separate passes to rounding, and a run on them is
certified at the optimum.
"""

import numpy as np
import pytest

from skgd import GDClassifier
from skgd._backend import get_backend


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
