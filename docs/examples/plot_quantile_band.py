# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
======================================
A prediction band from three quantiles
======================================

With noise that grows with ``x``, one line through the mean says nothing about the
spread. ``loss="quantile"`` fits a conditional quantile instead: the 10%, 50% and
90% quantiles make an 80% prediction band. Each fit is the optimum of
QuantileRegressor's objective (the mean pinball loss plus an L1 penalty), certified
by its duality gap.
"""

# %%
# Data: a line with heteroscedastic noise
# ---------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import QuantileRegressor

from skgd import GDRegressor

rng = np.random.default_rng(0)
n_samples = 500
X = rng.uniform(0, 5, size=(n_samples, 1))
y = 1.0 + X[:, 0] + rng.normal(scale=0.2 + 0.3 * X[:, 0])

# %%
# Three quantiles, and the same objective as QuantileRegressor
# ------------------------------------------------------------
alpha = 1e-3


def objective(model, q):
    """Return the mean pinball loss plus ``alpha ||w||_1``."""
    r = y - model.predict(X)
    return np.mean(np.maximum(q * r, (q - 1) * r)) + alpha * np.abs(model.coef_).sum()


fits = {}
for q in (0.1, 0.5, 0.9):
    model = GDRegressor(loss="quantile", quantile=q, penalty="l1", alpha=alpha)
    fits[q] = model.fit(X, y)
    ref = QuantileRegressor(quantile=q, alpha=alpha, solver="highs").fit(X, y)
    below = np.mean(y <= model.predict(X))
    # ``tol`` (1e-4 by default) bounds the objective's gap, not the coefficients:
    # a linear program's optimum may be flat in them.
    excess = objective(model, q) / objective(ref, q) - 1
    print(
        f"q={q}: {below:.0%} of the targets below the line; objective "
        f"{excess:.1e} above QuantileRegressor's"
    )

# %%
# The band
# --------
grid = np.linspace(0, 5, 50)[:, None]
fig, ax = plt.subplots()
ax.scatter(X[:, 0], y, s=6, alpha=0.4, color="gray")
ax.fill_between(
    grid[:, 0],
    fits[0.1].predict(grid),
    fits[0.9].predict(grid),
    alpha=0.3,
    label="10%-90% band",
)
ax.plot(grid[:, 0], fits[0.5].predict(grid), color="k", label="median")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
plt.show()
