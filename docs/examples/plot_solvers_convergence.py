# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
=======================================
SGD vs Adam vs GD: convergence per pass
=======================================

The three solvers of :class:`~skgd.GDRegressor` minimise the same objective, so
their convergence can be compared on one axis: the suboptimality
:math:`P(w_k) - P^\\star` against the number of passes over the data. The optimal
value :math:`P^\\star` comes from a full-batch fit with ``tol=1e-12``.

The stochastic solvers (``"sgd"``, ``"adam"``) want standardized features (see
:ref:`stochastic_solvers`), so the data are standardized first; ``"gd"`` would not
need it (:ref:`feature_scaling`).
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy import sparse
from sklearn.datasets import make_regression
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor, LossCurveDisplay

X, y = make_regression(
    n_samples=5000, n_features=50, effective_rank=20, noise=0.5, random_state=0
)
X = StandardScaler().fit_transform(X)
alpha = 1e-4  # the default penalty: alpha / 2 * ||w||^2


def objective(reg):
    """The objective of the default GDRegressor (squared loss, L2 penalty)."""
    residual = y - X @ reg.coef_ - reg.intercept_
    return 0.5 * np.mean(residual**2) + 0.5 * alpha * np.sum(reg.coef_**2)


optimum = GDRegressor(solver="gd", tol=1e-12, max_iter=10_000).fit(X, y)
p_star = objective(optimum)
print(f"optimal objective {p_star:.6f}, R^2 {optimum.score(X, y):.6f}")

# %%
# The recorded curves
# -------------------
# Each solver is fitted with its defaults. For ``"gd"``, ``loss_curve_`` holds the
# exact objective after each iteration (one pass). For the stochastic solvers it
# holds each epoch's running average of the minibatch objectives, as
# :class:`~sklearn.linear_model.SGDRegressor` reports: a cheap, noisy estimate that
# can even dip below :math:`P^\star` (the display leaves a gap there, since a log
# axis cannot show it). With the default ``learning_rate="adaptive"`` the step is
# divided by 5 whenever ``n_iter_no_change`` epochs fail to improve by ``tol``, which
# is what lets the stochastic solvers settle. (Averaged SGD is left out here: its
# ``loss_curve_`` records the objectives of the iterates, not of their average, so
# it would draw the same curve as plain SGD; the exact objectives below tell them
# apart.)
#
# On dense data with fewer than 512 features, ``"gd"`` solves this ridge problem
# directly (``n_iter_ == 1``, a single point on the plot). To draw its iterations,
# ``"gd"`` is given the same data as a sparse matrix, which it solves iteratively:
# same problem, same optimum.
X_sparse = sparse.csr_matrix(X)
solvers = {
    "gd": GDRegressor(solver="gd"),
    "sgd (momentum 0.9)": GDRegressor(solver="sgd", random_state=0),
    "adam": GDRegressor(solver="adam", random_state=0),
}
fig, ax = plt.subplots()
for name, reg in solvers.items():
    reg.fit(X_sparse if name == "gd" else X, y)
    LossCurveDisplay.from_estimator(reg, ax=ax, name=name, reference=p_star)
    gap = objective(reg) - p_star
    print(
        f"{name:>20}: {reg.n_iter_:3d} passes, final suboptimality {gap:.1e}, "
        f"R^2 {reg.score(X, y):.4f}"
    )
ax.set_title("Recorded loss_curve_ minus the optimum")

# %%
# The exact objective after each pass
# -----------------------------------
# To see the coefficients themselves, the stochastic solvers are run one pass at a
# time (``warm_start=True`` with ``max_iter=1`` keeps the optimizer's state: step
# counter, momentum, Adam's moments, the running average) and the exact objective
# is computed after each pass. ``tol=None`` runs every pass and, with the adaptive
# schedule, keeps the step at ``eta0``: the stochastic solvers then stall at a
# noise floor set by the step size (averaging the iterates, Polyak-Ruppert, lowers
# it), while ``"gd"`` converges linearly to machine precision. Compare with the
# curves above, where the adaptive schedule shrinks the step and the fits stop.
n_passes = 40
fig, ax = plt.subplots()
gd = GDRegressor(solver="gd", tol=None, max_iter=n_passes).fit(X, y)
ax.semilogy(
    np.arange(1, len(gd.loss_curve_) + 1),  # one point when solved directly
    np.array(gd.loss_curve_) - p_star,
    label="gd",
    lw=2,
    marker="o",
)
for name, params in {
    "sgd (momentum 0.9)": {"solver": "sgd"},
    "sgd, averaged": {"solver": "sgd", "average": True},
    "adam": {"solver": "adam"},
}.items():
    reg = GDRegressor(warm_start=True, max_iter=1, tol=None, random_state=0, **params)
    gaps = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=1 is reached on purpose
        for _ in range(n_passes):
            gaps.append(objective(reg.fit(X, y)) - p_star)
    ax.semilogy(np.arange(1, n_passes + 1), gaps, label=name)
    print(f"{name:>20}: suboptimality after {n_passes} passes {gaps[-1]:.1e}")
ax.set_ylim(bottom=1e-12)
ax.set_xlabel("Passes over the data")
ax.set_ylabel("Objective - optimum")
ax.set_title("Exact suboptimality after each pass (constant step)")
ax.legend()
plt.show()

# %%
# ``"gd"`` is the solver for data that fit in memory: it needs no tuning and reaches
# the optimum to the certified tolerance. The stochastic solvers make many cheap
# updates per pass, which pays off early on very large data and is what
# :meth:`~skgd.GDRegressor.partial_fit` needs for streams (see
# :ref:`sphx_glr_auto_examples_plot_streaming.py`).
