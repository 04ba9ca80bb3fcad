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

On dense data with no more than 512 features and at least as many samples,
the squared loss without a penalty or with the L2 penalty is solved directly
(``n_iter_ == 1``: one point, no curve). The features are therefore passed as a
sparse matrix, on which ``"gd"`` iterates on the same problem.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy import sparse
from sklearn.datasets import make_regression

from skgd import GDRegressor, LossCurveDisplay

X, y = make_regression(
    n_samples=500, n_features=30, effective_rank=10, noise=1.0, random_state=0
)
scales = np.logspace(-3, 3, X.shape[1])
X_scaled = X * scales
# Sparse, so that "gd" iterates (dense, this problem is solved directly).
X, X_scaled = sparse.csr_matrix(X), sparse.csr_matrix(X_scaled)

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
# The objective itself, as recorded, for a penalized model: with the L2 penalty on
# sparse data ``"gd"`` iterates; on the dense array the same ridge problem is solved
# directly, and the display draws its single point, labelled "solved directly".
fig, ax = plt.subplots()
reg = GDRegressor(alpha=1e-3).fit(X, y)
LossCurveDisplay.from_estimator(reg, ax=ax, name="sparse X")
dense = GDRegressor(alpha=1e-3).fit(X.toarray(), y)
LossCurveDisplay.from_estimator(dense, ax=ax, name="dense X")
ax.set_title(f"alpha=1e-3: {reg.n_iter_} iterations (sparse), direct solve (dense)")
plt.show()
