# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""One pass over a numpy X in cache-sized row blocks: ``X @ w``, then ``X.T @ g``.

A solver's evaluation multiplies X twice: ``raw = X @ w`` for the predictions, then
``X.T @ g`` for the gradient, ``g`` an elementwise function of ``raw``. As two
whole products each reads all of X from memory; :func:`row_pass` makes both on
each block of rows (512 kB, :data:`~skgd._backend._dense._BLOCK_ELEMENTS`) while
it is in the cache, so X is read from memory once. :func:`pass_blocks` says where
that applies: a numpy X whose products run on the calling thread anyway.
:func:`softmax_gradient` and :func:`logistic_gradient` are the multinomial and the
binary log losses' parts of such a pass, in place on a block's predictions.
"""

import numpy as np
from scipy.special import expit

from skgd._backend._dense import _BLOCK_ELEMENTS
from skgd._backend._threads import serial_products

# The fewest rows of a block: a wide X's blocks stay products of some length, not
# many calls of a few rows each.
_MIN_BLOCK_ROWS = 32


def pass_blocks(X, width=1):
    """Return the row slices of :func:`row_pass` over X, or None for whole products.

    Blocks where X is a numpy array whose products by ``width`` vectors run on
    one thread (:func:`~skgd._backend._threads.serial_products`) and that has more
    rows than one block; None elsewhere (whole products, on the process's threads
    where it has several, through the backend for other arrays).

    Parameters
    ----------
    X : {array, sparse matrix}
        The data.
    width : int, default=1
        The number of vectors X multiplies.

    Returns
    -------
    blocks : list of slice or None
        The row slices.

    Examples
    --------
    >>> import numpy as np
    >>> len(pass_blocks(np.ones((2_000, 100)))), pass_blocks(np.ones((20, 100)))
    (4, None)
    """
    if not serial_products(X, width):
        return None
    n_samples, n_features = X.shape
    step = max(_MIN_BLOCK_ROWS, _BLOCK_ELEMENTS // max(n_features, 1))
    if step >= n_samples:
        return None
    return [slice(start, start + step) for start in range(0, n_samples, step)]


def row_pass(X, w, shift, gradient, blocks, *, zero=False):
    """Return ``raw = X @ w + shift`` and ``X.T @ gradient(rows, raw[rows])``.

    Each block of rows is read once: ``X_b @ w``, then ``gradient`` on the
    block's predictions, then ``X_b.T`` times what it returns, while ``X_b`` is
    still in the cache. On 15,000 x 100 by 8 columns (one thread) the two
    products took 1.06 ms so, against 1.98 ms as two whole products.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data.
    w : ndarray of shape (n_features,) or (n_features, K)
        The coefficients.
    shift : float or ndarray of shape (K,)
        Added to every row of the predictions.
    gradient : callable
        ``gradient(rows, raw_rows)``: the weighted gradient of the block's
        predictions (the same shape); it may keep what else it computes.
    blocks : list of slice
        The row blocks (:func:`pass_blocks`).
    zero : bool, default=False
        Whether ``w`` is zero: the predictions are then ``shift`` alone, with no
        product (``X @ 0`` is exactly 0 for a finite X).

    Returns
    -------
    raw : ndarray of shape (n_samples,) or (n_samples, K)
        The predictions.
    product : ndarray of the shape of ``w``
        ``X.T @ g``, ``g`` the gradients of the blocks.

    Examples
    --------
    >>> import numpy as np
    >>> X, w = np.arange(12.0).reshape(6, 2), np.array([1.0, -1.0])
    >>> blocks = [slice(0, 4), slice(4, 6)]
    >>> raw, product = row_pass(X, w, 0.5, lambda rows, r: r, blocks)
    >>> bool(np.all(raw == X @ w + 0.5)), bool(np.allclose(product, X.T @ raw))
    (True, True)
    """
    n_samples = X.shape[0]
    dtype = np.result_type(X, w)
    raw = np.empty((n_samples, *w.shape[1:]), dtype=dtype)
    product = np.zeros(w.shape[::-1], dtype=dtype)
    for rows in blocks:
        block, out = X[rows], raw[rows]
        if zero:
            out[...] = shift
        else:
            np.matmul(block, w, out=out)
            out += shift
        g = gradient(rows, out)
        product += g.T @ block if g.ndim == 2 else g @ block
    return raw, product.T


def softmax_gradient(raw, labels, u, values, g):
    """Write the multinomial log loss of each row of ``raw`` and its weighted gradient.

    ``values[i] = logsumexp(raw_i) - raw_i[y_i]`` and ``g_i = u_i (softmax(raw_i)
    - onehot(y_i))``, from one exponential, in ``g`` itself: the labels' logits
    are picked and the one-hot subtracted at their positions, and the weights
    are applied with the normalization (one pass). About a dozen numpy calls
    whatever the block, where :meth:`~skgd.losses.MultinomialLogLoss.
    loss_gradient` and the weighting made thirty: on 15,000 x 100 x 8 classes
    in blocks of 655 rows (one thread) a whole evaluation took 2.3 ms against
    3.0 ms.

    Parameters
    ----------
    raw : ndarray of shape (m, K)
        The logits of the block.
    labels : ndarray of shape (m,)
        The class indices (integers).
    u : ndarray of shape (m,)
        The weights of the rows.
    values : ndarray of shape (m,)
        Receives the loss of each row.
    g : ndarray of shape (m, K), C-contiguous
        Receives the weighted gradient (it may be ``raw`` itself).

    Returns
    -------
    g : ndarray of shape (m, K)
        The gradient.

    Examples
    --------
    >>> import numpy as np
    >>> raw, values, g = np.zeros((2, 4)), np.empty(2), np.empty((2, 4))
    >>> _ = softmax_gradient(raw, np.array([0, 3]), np.array([0.5, 0.5]), values, g)
    >>> bool(np.allclose(values, np.log(4.0))), g[0].tolist()
    (True, [-0.375, 0.125, 0.125, 0.125])
    """
    m, n_classes = raw.shape
    # The rows' maxima as elementwise maxima of the columns: numpy reduces a
    # short last axis row by row, several times slower.
    top = raw[:, 0].copy()
    for k in range(1, n_classes):
        np.maximum(top, raw[:, k], out=top)
    np.subtract(raw, top[:, None], out=g)
    flat = g.reshape(-1)  # (a view: g is C-contiguous)
    at = np.arange(m) * n_classes
    at += labels
    picked = flat[at]
    np.exp(g, out=g)
    total = g.sum(axis=1)
    np.log(total, out=values)
    values -= picked
    g *= (u / total)[:, None]
    flat[at] -= u
    return g


def logistic_gradient(raw, minus_y, minus_yu, z, g):
    """Write the binary log loss's margins and weighted gradient of a block.

    ``z = -y raw`` (the loss is ``log(1 + exp(z))``, which the caller takes of
    all rows at once) and ``g = -u y sigmoid(z)``: three numpy calls, where the
    loss's :meth:`~skgd.losses.LogLoss.gradient` and the weighting make eight.

    Parameters
    ----------
    raw : ndarray of shape (m,)
        The logits of the block.
    minus_y, minus_yu : ndarray of shape (m,)
        ``-y`` and ``-u y``, for labels ``y`` of -1 and +1 and weights ``u``.
    z, g : ndarray of shape (m,)
        Receive the margins and the weighted gradient.

    Returns
    -------
    g : ndarray of shape (m,)
        The gradient.

    Examples
    --------
    >>> import numpy as np
    >>> raw, y, u = np.array([0.0, 2.0]), np.array([1.0, -1.0]), np.array([0.5, 0.5])
    >>> z, g = np.empty(2), np.empty(2)
    >>> g = logistic_gradient(raw, -y, -u * y, z, g)
    >>> z.tolist(), bool(np.allclose(g, [-0.25, 0.5 / (1.0 + np.exp(-2.0))]))
    ([-0.0, 2.0], True)
    """
    np.multiply(minus_y, raw, out=z)
    expit(z, out=g)
    g *= minus_yu
    return g
