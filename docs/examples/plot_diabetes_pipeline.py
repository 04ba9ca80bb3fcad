# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
==============================================
Tuning a GDRegressor pipeline on diabetes data
==============================================

A typical regression workflow on a dataset bundled with scikit-learn: standardize
the features, fit a :class:`~skgd.GDRegressor` with an elastic-net penalty, and
choose the penalty's strength and L1 share by cross-validated grid search.

The solver needs no scaling to converge (see :ref:`feature_scaling`); the
:class:`~sklearn.preprocessing.StandardScaler` is here for the *model*: the penalty
should treat the ten features alike, whatever their units.
"""

# %%
# Data and pipeline
# -----------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

pipe = make_pipeline(StandardScaler(), GDRegressor(penalty="elasticnet"))

# %%
# Grid search over ``alpha`` and ``l1_ratio``
# -------------------------------------------
# Every fit reaches the optimum of its objective, so the scores compare models, not
# how far a solver happened to get.
param_grid = {
    "gdregressor__alpha": np.logspace(-3, 1, 9),
    "gdregressor__l1_ratio": [0.0, 0.5, 1.0],
}
search = GridSearchCV(pipe, param_grid, cv=5).fit(X_train, y_train)
best = search.best_params_
print(
    f"best alpha={best['gdregressor__alpha']:.3g}, "
    f"l1_ratio={best['gdregressor__l1_ratio']}"
)
print(f"cross-validated R^2: {search.best_score_:.3f}")
print(f"test R^2:            {search.score(X_test, y_test):.3f}")

# %%
# Validation curves
# -----------------
results = search.cv_results_
alphas = param_grid["gdregressor__alpha"]
fig, ax = plt.subplots()
for l1_ratio in param_grid["gdregressor__l1_ratio"]:
    mask = results["param_gdregressor__l1_ratio"] == l1_ratio
    ax.semilogx(
        alphas,
        results["mean_test_score"][mask],
        marker="o",
        label=f"l1_ratio={l1_ratio}",
    )
ax.set_xlabel("alpha")
ax.set_ylabel("mean cross-validated $R^2$")
ax.legend()

# %%
# The fitted coefficients
# -----------------------
# Features with an exact zero were dropped by the L1 part of the penalty.
reg = search.best_estimator_[-1]
fig, ax = plt.subplots()
ax.barh(X.columns, reg.coef_)
ax.set_xlabel("coefficient (standardized features)")
plt.show()
