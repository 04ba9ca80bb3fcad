# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
============================================
Sparse Poisson regression of counts with L1
============================================

Counts (claims, visits, defects) are modelled by a Poisson distribution whose mean
is ``exp(X @ w + b)``. scikit-learn's :class:`~sklearn.linear_model.PoissonRegressor`
takes an L2 penalty only; :class:`~skgd.GDRegressor` with ``loss="poisson"`` takes
an L1 (or elastic-net) penalty too, fitted to the optimum certified by a duality
gap, with exact zeros. With ``penalty="l2"`` at the same ``alpha`` both give the
same coefficients.
"""

# %%
# Data: 30 features, 6 of which change the expected count
# --------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import PoissonRegressor
from sklearn.model_selection import train_test_split

from skgd import GDRegressor

rng = np.random.default_rng(0)
n_samples, n_features = 2_000, 30
X = rng.standard_normal((n_samples, n_features))
true_coef = np.zeros(n_features)
true_coef[:6] = [0.6, -0.5, 0.4, -0.3, 0.3, 0.2]
y = rng.poisson(np.exp(X @ true_coef + 0.3)).astype(float)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# L2: the same fit as PoissonRegressor
# ------------------------------------
alpha = 0.01
sk = PoissonRegressor(alpha=alpha, solver="newton-cholesky", tol=1e-10)
sk.fit(X_train, y_train)
ridge = GDRegressor(loss="poisson", penalty="l2", alpha=alpha, tol=1e-10)
ridge.fit(X_train, y_train)
print(f"largest coefficient difference: {np.abs(ridge.coef_ - sk.coef_).max():.1e}")

# %%
# L1: a sparse model, certified by the duality gap
# ------------------------------------------------
# ``score`` is the fraction of the Poisson deviance explained (D^2), as
# PoissonRegressor's.
lasso = GDRegressor(loss="poisson", penalty="l1", alpha=0.03, tol=1e-8)
lasso.fit(X_train, y_train)
print(f"non-zero coefficients: {np.count_nonzero(lasso.coef_)} of {n_features}")
print(f"duality gap: {lasso.dual_gap_:.1e}")
print(f"test D^2, PoissonRegressor (L2): {sk.score(X_test, y_test):.4f}")
print(f"test D^2, GDRegressor (L1):      {lasso.score(X_test, y_test):.4f}")

# %%
# Coefficients
# ------------
fig, ax = plt.subplots(figsize=(7, 3.5))
idx = np.arange(n_features)
ax.stem(idx, true_coef, linefmt="k:", markerfmt="ko", basefmt=" ", label="true")
ax.plot(idx, sk.coef_, "s", color="tab:blue", label="PoissonRegressor (L2)")
ax.plot(idx, lasso.coef_, "x", color="tab:red", label="GDRegressor (L1)")
ax.set_xlabel("feature")
ax.set_ylabel("coefficient")
ax.legend()
fig.tight_layout()
plt.show()
