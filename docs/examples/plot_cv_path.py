# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
==============================================
Choosing alpha by cross-validation on a path
==============================================

:class:`~skgd.GDRegressorCV` chooses the strength ``alpha`` of an elastic-net
penalty (and, given a list, ``l1_ratio``) by K-fold cross-validation. In each fold
the whole regularization path is solved by the full-batch solver, each alpha
warm-started from the previous, larger one (:func:`~skgd.gd_path`), which is far
cheaper than fitting every alpha from scratch as a grid search would. It is the
counterpart of :class:`~sklearn.linear_model.ElasticNetCV`, with the same alpha grid
and the same ``mse_path_``, so the two can be compared directly.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNetCV
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressorCV, gd_path

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
cv = KFold(n_splits=5, shuffle=True, random_state=0)

gd_cv = GDRegressorCV(l1_ratio=0.7, alphas=50, cv=cv).fit(X, y)
enet_cv = ElasticNetCV(l1_ratio=0.7, alphas=50, cv=cv).fit(X, y)
print(f"GDRegressorCV: alpha_ = {gd_cv.alpha_:.5f}")
print(f"ElasticNetCV:  alpha_ = {enet_cv.alpha_:.5f}")
print(f"R^2 on the training data: {gd_cv.score(X, y):.4f} vs {enet_cv.score(X, y):.4f}")

# %%
# The grids are the same (log-spaced from the alpha that zeroes every coefficient),
# so the chosen alphas can be compared grid point by grid point, and so can the
# mean held-out errors along the whole grid:
mse_gd = gd_cv.mse_path_.mean(axis=1)
mse_enet = enet_cv.mse_path_.mean(axis=1)
grid_step = np.log(gd_cv.alphas_[0] / gd_cv.alphas_[1])
steps = np.log(gd_cv.alpha_ / enet_cv.alpha_) / grid_step
print(f"same grid: {np.allclose(gd_cv.alphas_, enet_cv.alphas_)}")
print(f"chosen alphas {abs(steps):.0f} grid step(s) apart")
rel_diff = np.max(np.abs(mse_gd / mse_enet - 1))
print(f"largest relative difference of the mean MSE: {rel_diff:.1e}")
print(f"lowest mean MSE: {mse_gd.min():.2f} vs {mse_enet.min():.2f}")

# %%
# The two mean curves agree to a fraction of a percent (each solver stops at its own
# tolerance, ``tol=1e-4`` for both), but near its minimum the cross-validation curve
# is flat, so such small differences can move the choice to a neighbouring grid
# point; the held-out errors and the training :math:`R^2` are then practically the
# same. A finer grid (``alphas=200``) or a tighter ``tol`` narrows the gap.

# %%
# The cross-validation curves
# ---------------------------
# ``mse_path_`` holds the held-out mean squared error of each alpha (rows) in each
# fold (columns); their mean is minimised at ``alpha_``.
fig, ax = plt.subplots()
ax.semilogx(gd_cv.alphas_, gd_cv.mse_path_, ":", color="0.6", lw=1)
ax.semilogx(gd_cv.alphas_, gd_cv.mse_path_.mean(axis=1), "C0", lw=2, label="skgd")
ax.semilogx(
    enet_cv.alphas_, enet_cv.mse_path_.mean(axis=1), "C1--", lw=2, label="ElasticNetCV"
)
ax.axvline(gd_cv.alpha_, color="C0", label=f"skgd alpha_ = {gd_cv.alpha_:.3g}")
ax.axvline(
    enet_cv.alpha_,
    color="C1",
    linestyle="--",
    label=f"ElasticNetCV alpha_ = {enet_cv.alpha_:.3g}",
)
ax.set_xlabel("alpha")
ax.set_ylabel("Held-out mean squared error")
ax.set_title("5-fold cross-validation (dotted: each fold)")
ax.legend()

# %%
# The regularization path
# -----------------------
# :func:`~skgd.gd_path` returns the coefficients along the same grid, solved on all
# the data; the vertical line marks the chosen alpha.
alphas, coefs, _ = gd_path(X, y, l1_ratio=0.7, alphas=50)
fig, ax = plt.subplots()
ax.semilogx(alphas, coefs.T)
ax.axvline(gd_cv.alpha_, color="k", linestyle="--")
ax.set_xlabel("alpha")
ax.set_ylabel("Coefficients")
ax.set_title("Elastic-net path (l1_ratio=0.7)")
plt.show()
