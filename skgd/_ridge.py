# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
r"""Exact ridge solutions in the sample form: sparse tall X and wide X.

Dense X with at least as many rows as columns is solved in the Gram form, whose
closed form (:meth:`skgd._gram.GramObjective.closed_form`) answers a ridge problem
in one linear solve. The sample form, used for sparse X and for X with fewer rows
than columns, answers it here, in one of two ways (``U`` the normalised sample
weights, ``X_c`` the implicitly centered X, ``l2`` the penalty's strength):

- scipy.sparse X with at least as many rows as columns, and at most the Gram
  form's closed-form limit of columns: the Gram matrix ``G = X_c.T U X_c`` from
  one sparse-times-sparse product and a rank-two correction for the centering (X
  is never densified; ``G`` is dense, ``n_features**2`` numbers), then the Gram
  form's own closed form on it, ``(G + l2 I) w = X_c.T U y_c``, where the
  product costs at most :data:`_SPARSE_PRODUCT_MAX_PASSES` passes over X;
- X (dense, in any Array API namespace, or sparse) with fewer rows than columns
  and at most :data:`KERNEL_MAX_SAMPLES` rows (the Gram form's closed-form
  limit): the kernel ``K = A A.T`` of ``A = U^{1/2} X_c`` (``n_samples**2``
  numbers, no more than X holds when it is dense), and ``w = A.T (K + l2
  I)^{-1} U^{1/2} y_c``, the same solution written in the sample space (the
  push-through identity), on sparse X under the same bound on the product.

The kernel depends on X and the weights only: it is computed once and shared
(through the column statistics) by every target of a multi-output fit. Either way
the full-batch solver certifies the result with its duality gap and iterates from
it if that is not met. A positive constraint, an L1 part or per-feature penalty
weights have no closed form here (None).
"""

from skgd._backend._dense import DenseBackend, solve_spd
from skgd._backend._sparse import SparseBackend
from skgd._gram import _CLOSED_FORM_MAX_FEATURES, gram_form

# Up to this many rows a wide problem is solved through its kernel, the bound of the
# Gram form's ridge closed form on the columns of a tall problem, for the same
# reason: building ``K`` costs ``n_samples**2 * n_features`` flops, ``n_samples / 4``
# iterations' worth (an iteration is two passes over X) but at BLAS-3 speed, and
# its factorization ``n_samples**3 / 3``, less (``n <= p``); at 512 rows that is
# about the time of the few dozen iterations a ridge fit takes at a moderate alpha
# (hundreds at a small one), so the exact answer costs little more.
KERNEL_MAX_SAMPLES = 512
# On sparse X the product that builds ``G`` or ``K`` is scipy's, one multiply-add
# per pair of stored entries that share a row (for ``G``) or a column (for ``K``):
# it is used up to this many passes over X's stored entries (the density at which
# it stops paying: a row of 64 entries on average for ``G``).
_SPARSE_PRODUCT_MAX_PASSES = 64


def ridge_strength(objective):
    """Return the L2 strength of a ridge problem ``objective`` solves here, or None.

    That is a quadratic loss of one output, a plain L2 penalty (``l2 > 0``, no L1
    part, no constraint, no per-feature weights), an offset that is not a free
    variable, and X held in memory (dense or scipy.sparse).

    Parameters
    ----------
    objective : LinearObjective
        A problem in the sample form.

    Returns
    -------
    l2 : float or None
        The penalty's strength, or None where :func:`ridge_solution` does not apply.
    """
    weights = objective.penalty.elastic_net_weights()
    if not (
        objective.loss.is_quadratic
        and objective.n_outputs == 1
        and weights is not None
        and weights[0] == 0.0
        and weights[1] > 0.0
        and objective.intercept_mode in ("closed", "none")
        and objective.centered
        and objective.n_samples > 0
        and objective.n_features > 0
        and isinstance(objective.backend, (DenseBackend, SparseBackend))
    ):
        return None
    return float(weights[1])


def ridge_solution(objective):
    """Return the ridge coefficients of ``objective`` in the sample form, or None.

    Parameters
    ----------
    objective : LinearObjective
        A problem in the sample form.

    Returns
    -------
    w : array of shape (n_features,) or None
        The solution (zero on constant columns), in the objective's coefficient
        namespace and dtype; None where :func:`ridge_strength` says no, X is
        dense and tall (the Gram form's case), larger than the limits above, the
        sparse product would cost more than the passes it saves, or the solve
        failed.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd._backend import get_backend
    >>> from skgd._objective import LinearObjective
    >>> from skgd._ridge import ridge_solution
    >>> from skgd.losses import SquaredError
    >>> from skgd.penalties import L2
    >>> X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    >>> y = np.array([1.0, 2.0])
    >>> objective = LinearObjective(
    ...     get_backend(X), X, y, SquaredError(), L2(0.5), fit_intercept=False
    ... )
    >>> w = ridge_solution(objective)
    >>> G, q = X.T @ X / 2, X.T @ y / 2  # (u = 1/2: the mean over two rows)
    >>> bool(np.allclose(w, np.linalg.solve(G + 0.5 * np.eye(3), q)))
    True
    """
    l2 = ridge_strength(objective)
    if l2 is None:
        return None
    n_samples, n_features = objective.n_samples, objective.n_features
    backend, X = objective.backend, objective.X
    sparse, tall = isinstance(backend, SparseBackend), n_samples >= n_features
    if tall and (not sparse or n_features > _CLOSED_FORM_MAX_FEATURES):
        return None  # (dense and tall X has the Gram form and its closed form)
    if not tall and n_samples > KERNEL_MAX_SAMPLES:
        return None
    if sparse and backend.product_cost(X, 0 if tall else 1) > (
        _SPARSE_PRODUCT_MAX_PASSES * X.nnz
    ):
        return None
    if tall:
        w = _sparse_gram_solution(objective)
    else:
        w = _kernel_solution(objective, l2 / objective.curvature)
    if w is None or not bool(objective.coef_xp.all(objective.coef_xp.isfinite(w))):
        return None
    cxp = objective.coef_xp
    return cxp.where(objective.active, w, cxp.zeros_like(w))


def _sparse_gram_solution(objective):
    """Return the Gram form's closed form, its Gram matrix built from sparse X."""
    products, backend = objective.stats.products, objective.backend
    if products.gram is None:
        # Constant columns are inactive: their rows and columns of G are zero.
        cxp = objective.coef_xp
        mask = cxp.astype(objective.active, objective.dtype)
        G = backend.sparse_gram(objective.X, objective.u, objective.x_mean)
        products.gram = backend.to_coef(G) * mask[:, None] * mask[None, :]
    return gram_form(objective).closed_form()


def _sqrt_weights(objective):
    """Return ``sqrt(u)``, the row scaling of ``A = U^{1/2} X_c``."""
    return objective.xp.sqrt(objective.u)


def _kernel(objective):
    """Return ``K = A A.T`` with ``A = U^{1/2} X_c`` (constant columns dropped).

    Dense X: one copy of X, centered and scaled, and one BLAS product. Sparse X:
    the backend's ``sparse_kernel`` (a sparse product, X is not densified).
    """
    products = objective.stats.products
    if products.sample_kernel is not None:
        return products.sample_kernel
    xp, X = objective.xp, objective.X
    if isinstance(objective.backend, SparseBackend):
        K = objective.backend.sparse_kernel(
            X, objective.u, objective.x_mean, objective.active
        )
    else:
        A = X - objective.x_mean
        A *= _sqrt_weights(objective)[:, None]
        A *= xp.astype(objective.active, A.dtype)
        K = A @ A.T
    products.sample_kernel = K
    return K


def _kernel_solution(objective, lam):
    """Return ``w = A.T (K + lam I)^{-1} U^{1/2} y_c`` (``A = U^{1/2} X_c``)."""
    xp, backend = objective.xp, objective.backend
    K = _kernel(objective)
    sqrt_u = _sqrt_weights(objective)
    eye = xp.eye(objective.n_samples, dtype=K.dtype, device=backend.device)
    b = sqrt_u * (objective.y - objective.y_offset)
    try:
        z = solve_spd(K + lam * eye, xp.astype(b, K.dtype))
    except Exception:  # a non-finite system: iterate instead
        return None
    r = xp.astype(sqrt_u, K.dtype) * z
    w = backend.to_coef(backend.rmatvec(objective.X, r))
    if objective.fit_intercept:
        w = w - objective.x_mean * backend.to_float(xp.sum(r))
    return objective.coef_xp.astype(w, objective.dtype)
