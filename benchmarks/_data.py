# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Synthetic data of the benchmark cases: correlated dense and text-like sparse X.

Regression targets, and classification labels drawn from a softmax model of the
same kind of X. Generated deterministically from a seed, so every run times the
same problems.
"""

import numpy as np
import scipy.sparse as sp


def correlated_dense(n_samples, n_features, *, rho=0.9, n_informative=None, seed=0):
    """Return X with AR(1)-correlated columns of mixed scales and offsets, and y.

    Column ``j`` is ``rho * x_{j-1} + sqrt(1 - rho^2) z_j``, then scaled by a factor in
    [0.1, 10] and shifted by an offset in [-5, 5], as raw (unstandardized) data is.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    for j in range(1, n_features):
        X[:, j] *= np.sqrt(1.0 - rho * rho)
        X[:, j] += rho * X[:, j - 1]
    scale = 10.0 ** rng.uniform(-1, 1, n_features)
    X *= scale
    X += rng.uniform(-5, 5, n_features)
    k = n_features if n_informative is None else n_informative
    w = np.zeros(n_features)
    idx = rng.choice(n_features, k, replace=False)
    w[idx] = rng.standard_normal(k) / scale[idx]
    y = X @ w + 3.0
    y += 0.5 * np.std(y) * rng.standard_normal(n_samples)
    return X, y


def text_like_sparse(n_samples, n_features, density, *, n_informative=200, seed=0):
    """Return a CSR X with Zipf-distributed columns and log-count values, and y.

    Like a bag-of-words matrix: a few frequent columns, a long tail of rare ones,
    positive entries, about ``density * n_features`` entries per row.
    """
    rng = np.random.default_rng(seed)
    per_row = max(1, round(density * n_features))
    nnz_rows = rng.poisson(per_row, n_samples).clip(1, n_features)
    indptr = np.concatenate([[0], np.cumsum(nnz_rows)])
    prob = 1.0 / (np.arange(n_features) + 10.0)
    prob /= prob.sum()
    cols = rng.choice(n_features, indptr[-1], p=prob)
    perm = rng.permutation(n_features)
    cols = perm[cols].astype(np.int32)
    data = np.log1p(rng.geometric(0.5, indptr[-1])).astype(np.float64)
    X = sp.csr_matrix((data, cols, indptr), shape=(n_samples, n_features))
    X.sum_duplicates()
    w = np.zeros(n_features)
    idx = rng.choice(n_features, n_informative, replace=False)
    w[idx] = rng.standard_normal(n_informative) * 2.0
    y = np.asarray(X @ w) + 1.0
    y += 0.5 * np.std(y) * rng.standard_normal(n_samples)
    return X, y


def _sample_labels(logits, rng):
    """Return labels 0..K-1 drawn from the softmax of ``logits`` (n, K)."""
    logits = logits - logits.max(axis=1, keepdims=True)
    prob = np.exp(logits)
    prob /= prob.sum(axis=1, keepdims=True)
    cum = np.cumsum(prob, axis=1)
    u = rng.random(logits.shape[0])[:, None]
    return np.minimum((u > cum).sum(axis=1), logits.shape[1] - 1)


def classification_dense(n_samples, n_features, n_classes=2, *, rho=0.9, seed=0):
    """Return standardized AR(1)-correlated X and labels drawn from a softmax model.

    X is :func:`correlated_dense`'s, then standardized (as a user of
    LogisticRegression would, with StandardScaler): on the raw mixed-scale columns
    with offsets, lbfgs needs thousands of iterations. The true logits are
    ``X @ W`` with ``W ~ N(0, 9 / p)``; labels are sampled from their softmax, so
    the classes overlap and the optimum is finite.
    """
    X, _ = correlated_dense(n_samples, n_features, rho=rho, seed=seed)
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    rng = np.random.default_rng(seed + 1000)
    W = rng.standard_normal((n_features, n_classes)) * (3.0 / np.sqrt(n_features))
    if n_classes == 2:
        W[:, 0] = 0.0
    return X, _sample_labels(X @ W, rng)


def classification_sparse(n_samples, n_features, density, *, seed=0):
    """Return :func:`text_like_sparse`'s CSR X and binary labels (logistic model).

    The logit is that function's linear target standardized to unit variance and
    scaled by 3, so about 1 label in 5 disagrees with the sign of its logit.
    """
    X, score = text_like_sparse(n_samples, n_features, density, seed=seed)
    score = 3.0 * (score - score.mean()) / score.std()
    rng = np.random.default_rng(seed + 1000)
    logits = np.column_stack([np.zeros(n_samples), score])
    return X, _sample_labels(logits, rng)


def alpha_max(X, y, l1_ratio=1.0):
    """Return the smallest alpha giving all-zero coefficients (with intercept)."""
    yc = y - y.mean()
    n = X.shape[0]
    if sp.issparse(X):
        grad = np.asarray(X.T @ yc)
    else:
        grad = X.T @ yc
    return float(np.max(np.abs(grad))) / (n * l1_ratio)
