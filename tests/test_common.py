# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""scikit-learn's estimator checks over several skgd estimator configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import GDClassifierCV, GDRegressor, GDRegressorCV

CONFIGS = [
    GDRegressor(),
    GDRegressor(penalty="l1", alpha=0.01),
    GDRegressor(penalty="elasticnet", fit_intercept=False),
    GDRegressor(penalty=None),
    GDRegressor(loss="huber", epsilon=1.0),
    GDRegressor(loss="squared_epsilon_insensitive"),
    # (Tight tol: the weight-equivalence checks compare two fits at 1e-7; the
    # interior points that fit this loss reach it in a few more steps.)
    GDRegressor(loss="epsilon_insensitive", tol=1e-12),
    GDRegressorCV(alphas=5, cv=3),
    GDClassifierCV(alphas=3, cv=3),
]


def expected_failed_checks(estimator):
    """No check is expected to fail for the full-batch solver."""
    return {}


@parametrize_with_checks(CONFIGS, expected_failed_checks=expected_failed_checks)
def test_common_sklearn_checks(estimator, check):
    check(estimator)
