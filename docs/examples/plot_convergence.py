# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
===================================================
Convergence curves, and why scaling does not matter
===================================================

:class:`~skgd.LossCurveDisplay` draws the objective recorded in ``loss_curve_``
after each iteration. Passing the optimal objective value as ``reference`` draws the
suboptimality :math:`P(w_k) - P^\\star` instead, whose slope on the log scale is the
convergence rate.

The ``"gd"`` solver works in a metric built from each feature's variance (see
:ref:`feature_scaling`), so rescaling the features does not change how fast it
converges. To show it, we fit least squares (``penalty=None``, whose predictions do
not depend on the units of the features) on features with their natural scales and
on the same features multiplied by factors from :math:`10^{-3}` to :math:`10^{3}`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression

from skgd import GDRegressor, LossCurveDisplay

X, y = make_regression(
    n_samples=500, n_features=30, effective_rank=10, noise=1.0, random_state=0
)
scales = np.logspace(-3, 3, X.shape[1])
X_scaled = X * scales

# %%
# A penalty would make the two problems differ (it weighs the coefficients, whose
# units change with the features'), so we compare the unpenalized problems.
fits = {}
for name, data in {"original features": X, "rescaled features": X_scaled}.items():
    # A tight fit gives the optimal value, the reference of the suboptimality.
    optimum = GDRegressor(penalty=None, tol=1e-12, max_iter=5000).fit(data, y)
    reg = GDRegressor(penalty=None, tol=1e-10, max_iter=5000).fit(data, y)
    fits[name] = (reg, min(optimum.loss_curve_))
    print(f"{name:>18}: {reg.n_iter_} iterations, R^2 {reg.score(data, y):.6f}")

# %%
# The curves
# ----------
fig, ax = plt.subplots()
for (name, (reg, best)), style in zip(fits.items(), ["-", "--"], strict=True):
    LossCurveDisplay.from_estimator(
        reg, ax=ax, name=name, reference=best, linestyle=style, linewidth=2
    )
ax.set_title("Suboptimality of the gd solver")

# %%
# The objective itself, as recorded, for the default penalized model:
reg = GDRegressor(alpha=1e-3).fit(X, y)
disp = LossCurveDisplay.from_estimator(reg)
disp.ax_.set_title(f"alpha=1e-3: converged in {reg.n_iter_} iterations")
plt.show()
