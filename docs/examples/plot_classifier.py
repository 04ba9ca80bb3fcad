# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""
===============================================
GDClassifier: logistic regression and its kin
===============================================

With ``loss="log_loss"`` and an L2 penalty, :class:`~skgd.GDClassifier` minimises
the objective of :class:`~sklearn.linear_model.LogisticRegression` with
``C = 1 / (alpha * n_samples)``: binary on two classes, multinomial (one softmax
over all classes) on more. Fitted to a small ``tol`` the two agree to many digits.
With ``loss="hinge"`` (a linear SVM) or ``"modified_huber"`` the same estimator
fits one-vs-rest models to their optimum instead.
"""

# %%
# Binary: breast cancer
# ---------------------
# ``tol`` bounds the duality gap relative to the objective of the best constant
# model; coefficient errors go like ``sqrt(tol / alpha)``, so ``tol=1e-14`` gives
# about six digits, while the default ``1e-4`` gives about two.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier

alpha = 1e-2


def compare(X, y):
    """Fit skgd and LogisticRegression on the same objective; print how they agree."""
    X = StandardScaler().fit_transform(X)
    gd = GDClassifier(alpha=alpha, tol=1e-14).fit(X, y)
    # newton-cg with a tight tol is an accurate reference.
    lr = LogisticRegression(C=1 / (alpha * len(y)), solver="newton-cg", tol=1e-12)
    lr.fit(X, y)
    print(f"coef_ shapes: {gd.coef_.shape}, {lr.coef_.shape}; {gd.n_iter_} iterations")
    print(f"largest coefficient difference:  {np.abs(gd.coef_ - lr.coef_).max():.1e}")
    print(
        "largest probability difference: "
        f"{np.abs(gd.predict_proba(X) - lr.predict_proba(X)).max():.1e}"
    )
    return X, y, gd


compare(*load_breast_cancer(return_X_y=True))

# %%
# Multinomial: iris
# -----------------
# With three classes, ``log_loss`` is one softmax over ``coef_`` of shape
# ``(3, n_features)``, as LogisticRegression fits it (not one-vs-rest). The
# intercepts are defined up to a common shift, so compare the probabilities.
X, y, gd = compare(*load_iris(return_X_y=True))

# %%
# Three losses on two features
# ----------------------------
# The multinomial log loss, the hinge (one-vs-rest linear SVMs, without
# probabilities) and the modified Huber loss (one-vs-rest, with SGDClassifier's
# probability estimates), on petal length and width. The hinge is not smooth: the
# solver minimises smoothings of it, whose iteration count grows like ``1 / tol``,
# hence its larger ``max_iter``. The shading is the predicted class; the lines
# are where the largest probability is 0.5, 0.7 and 0.9.
from matplotlib.colors import ListedColormap

X2 = X[:, 2:]
models = {
    "log_loss (multinomial)": GDClassifier(alpha=alpha),
    "hinge (one-vs-rest)": GDClassifier(loss="hinge", alpha=alpha, max_iter=5000),
    "modified_huber (one-vs-rest)": GDClassifier(loss="modified_huber", alpha=alpha),
}
grid = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-2, 2, 300))
points = np.c_[grid[0].ravel(), grid[1].ravel()]
colors = ["tab:blue", "tab:orange", "tab:green"]
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    model.fit(X2, y)
    regions = model.predict(points).reshape(grid[0].shape)
    ax.contourf(
        *grid,
        regions,
        levels=[-0.5, 0.5, 1.5, 2.5],
        alpha=0.25,
        cmap=ListedColormap(colors),
    )
    if hasattr(model, "predict_proba"):
        top = model.predict_proba(points).max(axis=1).reshape(grid[0].shape)
        lines = ax.contour(
            *grid, top, levels=[0.5, 0.7, 0.9], colors="k", linewidths=0.6
        )
        ax.clabel(lines, fontsize=7)
    ax.scatter(X2[:, 0], X2[:, 1], c=[colors[k] for k in y], edgecolor="k", s=15)
    ax.set_title(f"{name}\ntraining accuracy {model.score(X2, y):.2f}", fontsize=10)
    ax.set_xlabel("petal length (standardized)")
axes[0].set_ylabel("petal width (standardized)")
fig.tight_layout()
plt.show()
