# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
======================
L1 regularization path
======================

With ``penalty="l1"``, :class:`~skgd.GDRegressor` solves the Lasso problem
exactly, so an L1 penalty produces exact zeros in ``coef_`` and the whole
regularization path matches :func:`sklearn.linear_model.lasso_path`.

Warm starts make the path cheap: each fit starts from the previous solution.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import lasso_path
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
alphas = np.logspace(1.5, -2, 30)  # from strong to weak regularization

reg = GDRegressor(penalty="l1", warm_start=True, tol=1e-8, max_iter=5000)
coefs, n_iters = [], []
for alpha in alphas:
    reg.set_params(alpha=alpha).fit(X, y)
    coefs.append(reg.coef_.copy())
    n_iters.append(reg.n_iter_)
coefs = np.array(coefs)
print(f"iterations per fit along the path: {min(n_iters)} to {max(n_iters)}")

# %%
# Comparison with scikit-learn's coordinate descent
# -------------------------------------------------
# :func:`~sklearn.linear_model.lasso_path` centers the data itself when the
# intercept is fitted, so we center ``X`` and ``y`` for it.
_, sk_coefs, _ = lasso_path(X - X.mean(0), y - y.mean(), alphas=alphas, tol=1e-10)
gap = np.abs(coefs - sk_coefs.T).max()
print(
    f"largest difference with lasso_path: {gap:.2e} "
    f"(coefficients up to {np.abs(coefs).max():.0f})"
)

# %%
# The path
# --------
fig, ax = plt.subplots()
ax.semilogx(alphas, coefs)
ax.semilogx(alphas, sk_coefs.T, "k:", linewidth=1)
ax.set_xlabel("alpha")
ax.set_ylabel("coefficients")
ax.set_title("Lasso path: GDRegressor (colours), lasso_path (dotted)")

fig, ax = plt.subplots()
ax.semilogx(alphas, (coefs != 0).sum(axis=1), drawstyle="steps-mid")
ax.set_xlabel("alpha")
ax.set_ylabel("non-zero coefficients")
plt.show()
