# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
=======================================
Huber versus squared loss with outliers
=======================================

The squared loss grows quadratically with the residual, so a few gross outliers
can pull the whole fit towards them. The Huber loss is quadratic only for residuals
up to ``epsilon`` and linear beyond, which bounds the influence of any single
sample. Both are fitted here by :class:`~skgd.GDRegressor` to the exact optimum.
"""

# %%
# Data: a line, with 10% of the targets corrupted
# -----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor

rng = np.random.default_rng(0)
n_samples = 100
X = rng.uniform(-3, 3, size=(n_samples, 1))
y = 2.0 * X[:, 0] + 1.0 + rng.normal(scale=0.5, size=n_samples)
outliers = rng.choice(n_samples, size=10, replace=False)
y[outliers] += rng.uniform(15, 30, size=10) * np.sign(X[outliers, 0])

# %%
# Fits
# ----
# ``epsilon`` is in the units of ``y``: residuals larger than that count linearly.
models = {
    "squared_error": GDRegressor(loss="squared_error", penalty=None),
    "huber, epsilon=1": GDRegressor(loss="huber", epsilon=1.0, penalty=None),
}
for name, model in models.items():
    model.fit(X, y)
    print(
        f"{name:>18}: slope {model.coef_[0]:.2f}, intercept "
        f"{model.intercept_:.2f} (true: 2.00, 1.00)"
    )

# %%
# Plot
# ----
fig, ax = plt.subplots()
inliers = np.setdiff1d(np.arange(n_samples), outliers)
ax.scatter(X[inliers, 0], y[inliers], s=12, color="tab:gray", label="inliers")
ax.scatter(X[outliers, 0], y[outliers], s=12, color="tab:red", label="outliers")
grid = np.linspace(-3, 3, 50).reshape(-1, 1)
for name, model in models.items():
    ax.plot(grid[:, 0], model.predict(grid), linewidth=2, label=name)
ax.plot(grid[:, 0], 2.0 * grid[:, 0] + 1.0, "k:", label="true line")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
plt.show()
