# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
r"""Exact penalty-free least squares in the sample form (no Gram matrix).

An unpenalized squared-loss problem has a closed-form answer, the minimum-norm
solution of the weighted, centered least-squares problem

.. math::

    \min_w \; \|U^{1/2} (y_c - X_c w)\|^2, \qquad X_c = X - 1 \bar x^\top,

LinearRegression's answer. The Gram form solves it from ``G`` (see
:mod:`skgd._gram`); the sample form, used where ``G`` is not built (sparse X, more
columns than rows, Dask arrays that are wider than tall), solves it here, in one of
two ways:

- dense X held in memory (any Array API namespace) with at most
  :data:`_SVD_MAX_RANK` rows or columns: the thin SVD of ``U^{1/2} X_c`` (a copy of
  X, as LinearRegression makes one) by the namespace's ``linalg.svd``, with
  LAPACK's ``lstsq`` rule for the numerical rank. The factors are shared by every
  target of a multi-output fit;
- otherwise (scipy.sparse, Dask, larger dense numpy X):
  :func:`scipy.sparse.linalg.lsmr` from zero on a
  :class:`~scipy.sparse.linalg.LinearOperator` that centers and weights X
  implicitly (never densifying it), in float64. Started from zero its
  iterates stay in the row space of the operator: it converges to the minimum-norm
  solution (of the Jacobi-scaled problem when the columns' scales differ widely on
  an overdetermined problem, whose solution, if X has full rank, is the same).

Either way the full-batch solver certifies the result with its stopping measure and
iterates from it if that is not met.
"""

import numpy as np
from array_api_compat import is_numpy_array
from scipy.sparse.linalg import LinearOperator, lsmr

from skgd._backend._dense import DenseBackend

# Up to this many rows or columns (whichever is fewer) dense X is solved by an SVD:
# its cost, ``O(n_samples * n_features * min(n_samples, n_features))``, is then of
# the order of building a Gram matrix of that many columns (the Gram form's limit).
_SVD_MAX_RANK = 4096
# LSMR stops when ``||A.T r|| <= _LSMR_TOL ||A|| ||r||`` (or the residual is zero to
# the same relative level): a few ulps of float64, where its rounding floor is.
_LSMR_TOL = 1e-14
# Up to this ratio of the largest column spread (weighted standard deviation) to the
# smallest, LSMR runs on X itself (LinearRegression's minimum-norm answer); beyond,
# on the Jacobi-scaled X (see _lsmr_solution).
_LSMR_MAX_SPREAD = 100.0


def applies(objective):
    """Return whether ``objective`` is a penalty-free least-squares problem.

    That is a quadratic loss of one output, a penalty with zero elastic-net
    weights (``penalty=None``), and an offset that is not a free variable.

    Parameters
    ----------
    objective : ObjectiveForm
        The problem.

    Returns
    -------
    applies : bool
        Whether :func:`min_norm_lstsq` solves it.
    """
    weights = objective.penalty.elastic_net_weights()
    return (
        objective.loss.is_quadratic
        and objective.n_outputs == 1
        and weights is not None
        and tuple(weights) == (0.0, 0.0)
        and objective.intercept_mode in ("closed", "none")
        and objective.centered
        and objective.n_samples > 0
        and objective.n_features > 0
    )


def min_norm_lstsq(objective):
    """Return the minimum-norm least-squares coefficients of ``objective``, or None.

    Parameters
    ----------
    objective : LinearObjective
        A problem in the sample form.

    Returns
    -------
    w : array of shape (n_features,) or None
        The solution (zero on constant columns), in the objective's coefficient
        namespace and dtype; None where :func:`applies` says no, the namespace has
        no ``linalg.svd`` (dense X) or the result is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd._backend import get_backend
    >>> from skgd._lstsq import min_norm_lstsq
    >>> from skgd._objective import LinearObjective
    >>> from skgd.losses import SquaredError
    >>> from skgd.penalties import L2
    >>> X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    >>> y = np.array([1.0, 2.0])
    >>> objective = LinearObjective(
    ...     get_backend(X), X, y, SquaredError(), L2(0.0), fit_intercept=False
    ... )
    >>> w = min_norm_lstsq(objective)
    >>> bool(np.allclose(w, np.linalg.pinv(X) @ y))
    True
    """
    if not applies(objective):
        return None
    backend = objective.backend
    rank = min(objective.n_samples, objective.n_features)
    dense = isinstance(backend, DenseBackend)
    if dense and rank <= _SVD_MAX_RANK:
        w = _svd_solution(objective)
    elif not dense or is_numpy_array(objective.X):
        w = _lsmr_solution(objective)
    else:  # (LSMR runs on numpy vectors: no copy of another namespace's X)
        w = None
    if w is None or not bool(objective.coef_xp.all(objective.coef_xp.isfinite(w))):
        return None
    return w


def _target(objective):
    """Return ``y_c = y - c``, the target of the centered model."""
    return objective.y - objective.y_offset


def _svd_solution(objective):
    """Return the solution from the thin SVD of ``U^{1/2} X_c`` (dense X)."""
    cxp = objective.coef_xp
    if not hasattr(cxp, "linalg") or not hasattr(cxp.linalg, "svd"):
        return None
    svd = _sample_svd(objective)
    if svd is None:
        return None
    sqrt_u, U, inv_s, Vh = svd
    b = sqrt_u * _target(objective)
    w = Vh.T @ (inv_s * (U.T @ b))
    return cxp.where(objective.active, w, cxp.zeros_like(w))


def _sample_svd(objective):
    """Return ``(sqrt(u), U, 1/s, Vh)`` of ``U^{1/2} X_c``, computed once per X.

    Singular values at or below ``max(n_samples, n_features) * eps`` times the
    largest are dropped (their inverse is 0), as LAPACK's ``lstsq`` does; constant
    columns are zeroed before the factorization, so they get no coefficient.
    """
    products = objective.stats.products
    if products.sample_svd is not None:
        return products.sample_svd
    xp, X = objective.xp, objective.X
    sqrt_u = xp.sqrt(objective.u)
    # One copy of X, scaled in place (constant columns zeroed).
    A = X - objective.x_mean
    A *= sqrt_u[:, None]
    A *= xp.astype(objective.active, A.dtype)
    try:
        U, s, Vh = xp.linalg.svd(A, full_matrices=False)
    except Exception:  # a non-finite matrix: iterate instead
        return None
    del A
    eps = float(xp.finfo(X.dtype).eps)
    top = objective.backend.to_float(xp.max(s))
    keep = s > max(X.shape) * eps * top
    ones = xp.ones_like(s)
    inv_s = xp.where(keep, ones / xp.where(keep, s, ones), xp.zeros_like(s))
    products.sample_svd = (sqrt_u, U, inv_s, Vh)
    return products.sample_svd


def _to_numpy(x):
    """Return a numpy float64 copy of a vector of the backend (Dask: computed)."""
    if hasattr(x, "compute"):
        x = x.compute()
    return np.asarray(x, dtype=np.float64)


def _lsmr_solution(objective):
    """Return the solution by LSMR on the implicitly centered, weighted X.

    LSMR runs on ``A = U^{1/2} X_c S`` with ``S`` a diagonal column scaling (zero on
    inactive columns); each product is one pass over X (one compute on Dask).
    Vectors are numpy float64 on the client, so float32 data is solved in float64
    and the answer rounded once. ``S`` is the identity, whose minimum-norm solution
    is LinearRegression's, unless the problem is overdetermined and its columns'
    spreads differ by more than :data:`_LSMR_MAX_SPREAD` (or LSMR does not converge
    on the identity): then the Jacobi scaling, on which LSMR converges in far fewer
    iterations, and whose solution is the same on a full-rank problem (on a
    rank-deficient one it is the minimum-norm solution in the scaled coordinates).
    """
    moments = objective.moments()
    active = np.asarray(_to_numpy(moments.active), dtype=bool)
    jacobi = np.where(active, 1.0 / np.sqrt(_to_numpy(moments.metrics["jacobi"])), 0.0)
    spread = np.ptp(np.log10(jacobi[active])) if active.any() else 0.0
    if moments.underdetermined or spread <= np.log10(_LSMR_MAX_SPREAD):
        w, converged = _lsmr(objective, np.where(active, 1.0, 0.0))
        if converged or moments.underdetermined:
            return w
    return _lsmr(objective, jacobi)[0]


def _lsmr(objective, scale):
    """Return ``(w, converged)`` from LSMR on ``U^{1/2} X_c diag(scale)``."""
    backend, X, cxp = objective.backend, objective.X, objective.coef_xp
    n_samples, n_features = X.shape
    sqrt_u = np.sqrt(_to_numpy(objective.u))
    x_mean = _to_numpy(objective.x_mean)

    def matvec(z):
        v = scale * np.ravel(z)
        xv = _to_numpy(backend.matvec(X, backend.to_coef(v)))
        return sqrt_u * (xv - x_mean @ v)

    def rmatvec(r):
        ur = sqrt_u * np.ravel(r)
        product = _to_numpy(backend.rmatvec(X, backend.samples(ur, np.float64)))
        return scale * (product - x_mean * ur.sum())

    operator = LinearOperator(
        (n_samples, n_features), matvec=matvec, rmatvec=rmatvec, dtype=np.float64
    )
    b = sqrt_u * _to_numpy(_target(objective))
    z, istop = lsmr(
        operator,
        b,
        atol=_LSMR_TOL,
        btol=_LSMR_TOL,
        conlim=1.0 / np.finfo(np.float64).eps,
        maxiter=2 * min(n_samples, n_features) + 20,
    )[:2]
    w = cxp.asarray(scale * z, dtype=objective.dtype, device=backend.device)
    # (istop 7: the iteration limit; 3 and 6: the condition number limit.)
    return w, istop not in (3, 6, 7)
