# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What a new user meets first: warnings that name their cause, the verbose
output's words, and the defaults' behaviour on common data sets."""

import doctest
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor, GDRegressorCV, gd_path


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.mark.parametrize(
    ("params", "scaled", "match"),
    [
        # Raw breast cancer: columns from 0.0026 to 570 in standard deviation.
        ({}, False, r"scales differ by a factor of 2\.2e\+05 .*StandardScaler"),
        (
            {"loss": "hinge", "max_iter": 50},
            True,
            r"hinge loss is not smooth.*raise max_iter.*'modified_huber'",
        ),
        (
            {"penalty": None, "max_iter": 5},
            True,
            r"proximal-gradient measure .*Without a penalty.*add a small one",
        ),
        (
            {"alpha": 1e-7, "max_iter": 20},
            True,
            r"relative duality gap .*alpha=1e-07 is .* times alpha_max=0\.384",
        ),
    ],
)
def test_convergence_warning_names_cause(cancer, params, scaled, match):
    X, y = cancer
    if scaled:
        X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match=match):
        GDClassifier(solver="gd", **params).fit(X, y)


def test_convergence_warning_regressor_epsilon_insensitive():
    X, y = load_diabetes(return_X_y=True)
    match = r"epsilon_insensitive loss is not smooth.*loss='huber'"
    with pytest.warns(ConvergenceWarning, match=match):
        GDRegressor(loss="epsilon_insensitive", solver="gd", max_iter=3).fit(X, y)


def test_convergence_warning_generic_advice():
    # Standardized data, a strong penalty, a smooth loss: nothing to blame but the
    # budget.
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match=r"Increase max_iter, or loosen tol"):
        GDRegressor(penalty="l1", alpha=1.0, solver="gd", max_iter=2).fit(X, y)


def test_verbose_names_the_measure(cancer, capsys):
    X, y = cancer
    X = StandardScaler().fit_transform(X)
    GDClassifier(solver="gd", verbose=1).fit(X, y)
    out = capsys.readouterr().out
    # Far from the optimum the line shows the free lower bound, then the gap.
    assert "proximal-gradient measure" in out
    assert out.strip().splitlines()[-1].count("relative duality gap") == 1
    assert " measure " not in out.replace("proximal-gradient measure", "")


def test_cv_verbose_prints_each_alpha(capsys):
    X, y = load_diabetes(return_X_y=True)
    reg = GDRegressorCV(alphas=4, l1_ratio=[0.5, 1.0], cv=3, verbose=1).fit(X, y)
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("[GDRegressorCV]")
    ]
    assert len(lines) == 2 * 4 + 1
    mse = [float(re.search(r"mean MSE (\S+)", line).group(1)) for line in lines[:-1]]
    np.testing.assert_allclose(mse, reg.mse_path_.mean(axis=2).ravel(), rtol=1e-6)
    assert f"alpha={reg.alpha_:.4e}" in lines[-1]


def _guide_section(title):
    """Return the text of a user-guide section, from its title to the next one."""
    guide = Path(__file__).parents[1] / "docs" / "user_guide.rst"
    if not guide.exists():
        pytest.skip("docs/user_guide.rst is not available")
    text = guide.read_text()
    start = text.index(f"{title}\n~~~")
    end = text.index("\n~~~", text.index("\n~~~", start) + 4)
    return text[start:end]


def test_choosing_alpha_examples_run():
    section = _guide_section("Choosing ``alpha``")
    parser, runner = (
        doctest.DocTestParser(),
        doctest.DocTestRunner(
            optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
        ),
    )
    test = parser.get_doctest(section, {}, "choosing_alpha", None, 0)
    assert len(test.examples) >= 8
    result = runner.run(test)
    assert result.failed == 0


def test_alpha_max_of_the_guide():
    X, y = load_diabetes(return_X_y=True)
    alphas = gd_path(X, y, l1_ratio=1.0, alphas=2)[0]
    assert round(float(alphas[0]), 2) == 2.15
    coef = GDRegressor(penalty="l1", alpha=alphas[0] * (1 + 1e-9)).fit(X, y).coef_
    assert not coef.any()


@pytest.mark.parametrize(
    ("sk", "gd"),
    [
        (Lasso(alpha=0.3), {"penalty": "l1", "alpha": 0.3}),
        (
            ElasticNet(alpha=0.02, l1_ratio=0.7),
            {"penalty": "elasticnet", "alpha": 0.02, "l1_ratio": 0.7},
        ),
        (Ridge(alpha=4.0), {"penalty": "l2", "alpha": 4.0 / 442}),
    ],
)
def test_alpha_translations_regression(sk, gd):
    X, y = load_diabetes(return_X_y=True)
    if hasattr(sk, "tol"):
        sk.set_params(tol=1e-12, max_iter=100_000)
    ours = GDRegressor(tol=1e-12, **gd).fit(X, y)
    sk.fit(X, y)
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-6 * np.abs(sk.coef_).max())
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, rtol=1e-8)


def test_alpha_translation_logistic_regression(cancer):
    X, y = cancer
    X = StandardScaler().fit_transform(X)
    C = 0.5
    lr = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12).fit(X, y)
    # (The coefficient error goes as the square root of the gap: a tight tol.)
    ours = GDClassifier(alpha=1 / (C * len(y)), tol=1e-16).fit(X, y)
    np.testing.assert_allclose(ours.coef_, lr.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, lr.intercept_, atol=1e-6)
