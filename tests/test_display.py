# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""LossCurveDisplay, drawn headless with the Agg backend."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor, LossCurveDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def fitted():
    rng = np.random.default_rng(42)
    X = rng.normal(size=(60, 12))
    y = X @ rng.normal(size=12) + rng.normal(scale=0.1, size=60)
    # Sparse X: iterated (on dense X one run of coordinate descent on the Gram
    # matrix solves this lasso, a curve of one point).
    return GDRegressor(penalty="l1", alpha=0.01, tol=1e-8).fit(sp.csr_matrix(X), y)


def test_display_from_estimator(fitted):
    disp = LossCurveDisplay.from_estimator(fitted)
    assert disp.ax_.get_yscale() == "log"
    assert disp.figure_ is disp.ax_.figure
    assert disp.line_.get_label() == "GDRegressor"
    assert list(disp.line_.get_xdata()) == list(range(1, fitted.n_iter_ + 1))
    np.testing.assert_allclose(disp.line_.get_ydata(), fitted.loss_curve_)
    assert disp.validation_line_ is None


def test_display_uses_given_axes_and_kwargs(fitted):
    fig, ax = plt.subplots()
    disp = LossCurveDisplay.from_estimator(fitted, ax=ax, name="mine", color="red")
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert disp.line_.get_label() == "mine"
    assert disp.line_.get_color() == "red"


def test_display_reference_masks_non_positive(fitted):
    best = min(fitted.loss_curve_)
    disp = LossCurveDisplay.from_estimator(fitted, reference=best)
    ydata = np.asarray(disp.line_.get_ydata(), dtype=float)
    assert math.isnan(ydata[int(np.argmin(fitted.loss_curve_))])
    finite = ydata[np.isfinite(ydata)]
    assert finite.size
    assert (finite > 0).all()


def test_display_pipeline_uses_final_step():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    pipe = make_pipeline(StandardScaler(), GDRegressor()).fit(X, y)
    disp = LossCurveDisplay.from_estimator(pipe)
    assert len(disp.line_.get_xdata()) == pipe[-1].n_iter_


def test_display_validation_scores_on_twin_axis():
    class WithValidation(BaseEstimator):
        loss_curve_ = [4.0, 2.0, 1.0]
        validation_scores_ = [0.1, 0.5, 0.6]

    disp = LossCurveDisplay.from_estimator(WithValidation())
    assert disp.validation_line_ is not None
    assert disp.validation_line_.axes is not disp.ax_
    assert list(disp.validation_line_.get_ydata()) == [0.1, 0.5, 0.6]
    assert len(disp.ax_.get_legend().get_texts()) == 2


def test_display_shared_axes_share_one_legend(fitted):
    fig, ax = plt.subplots()
    LossCurveDisplay.from_estimator(fitted, ax=ax, name="first")
    LossCurveDisplay.from_estimator(fitted, ax=ax, name="second")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["first", "second"]


def test_display_plot_from_constructor():
    disp = LossCurveDisplay(loss_curve=[1.0, 0.1, 0.01]).plot()
    assert disp.line_.get_label() == "loss"
    assert disp.ax_.get_ylabel() == "Objective"


def test_display_unfitted_raises():
    with pytest.raises(ValueError, match="loss_curve_"):
        LossCurveDisplay.from_estimator(GDRegressor())


def test_display_direct_solve_shows_one_marked_point():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5)), rng.normal(size=40)
    reg = GDRegressor().fit(X, y)  # ridge: solved in closed form
    assert reg.n_iter_ == 1
    disp = LossCurveDisplay.from_estimator(reg)
    assert len(disp.line_.get_xdata()) == 1
    assert disp.line_.get_marker() not in (None, "", "None", " ")
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels == ["GDRegressor (solved directly)"]


def test_display_iterations_not_called_direct(fitted):
    disp = LossCurveDisplay.from_estimator(fitted)
    assert fitted.n_iter_ > 1
    assert "solved directly" not in disp.line_.get_label()


def test_display_two_estimators_share_one_twin_axis():
    class First(BaseEstimator):
        loss_curve_ = [4.0, 2.0, 1.0]
        validation_scores_ = [0.1, 0.5, 0.6]

    class Second(First):
        loss_curve_ = [3.0, 1.5]
        validation_scores_ = [0.2, 0.4]

    fig, ax = plt.subplots()
    first = LossCurveDisplay.from_estimator(First(), ax=ax)
    second = LossCurveDisplay.from_estimator(Second(), ax=ax)
    assert first.validation_line_.axes is second.validation_line_.axes
    assert len(fig.axes) == 2
    for disp in (first, second):
        assert disp.validation_line_.get_color() == disp.line_.get_color()
    assert first.line_.get_color() != second.line_.get_color()
    assert len(ax.get_legend().get_texts()) == 4
