# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Regularization paths: solutions over a decreasing grid of alphas, warm-started.

The path reuses one objective (its column statistics are computed once), in the form
that :mod:`skgd._planner` chooses for that many alphas, and the full-batch solver's
working sets, whose gathered columns and Gram matrices it keeps from one alpha to
the next; it holds no optimisation code of its own.
"""

import dataclasses
import numbers
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from sklearn.utils import check_array, check_consistent_length

from skgd._backend import fit_threads, get_backend
from skgd._base import check_penalty_weights
from skgd._objective import LinearObjective
from skgd._planner import choose_form, in_form
from skgd._sklearn_compat import (
    Interval,
    _check_sample_weight,
    validate_params,
)
from skgd._validation import (
    refuse_out_of_core,
    rescale_weights,
    scaled_problem,
    target_scale,
)
from skgd.losses import get_loss
from skgd.penalties import L1L2
from skgd.solvers._gd import _solve_direct, solve_gd
from skgd.solvers._result import warn_not_converged
from skgd.solvers._working_set import solve_working_set, working_set_mode


def alpha_max(objective, l1_ratio):
    """Return the smallest alpha for which every coefficient is zero at the optimum.

    For the squared loss, ``w = 0`` is optimal iff ``|X_c.T (u y_c)|_j <= alpha
    l1_ratio`` for every ``j``. Since ``sum(u y_c) = 0``, ``X_c.T (u y_c) = X.T (u
    y_c)``: one pass over X, and no column statistic (means, variances) is needed.
    With the penalty's ``positive``, only ``X_c.T (u y_c)_j <= alpha l1_ratio`` is
    needed (no absolute value); with its per-feature ``weights`` ``c``, the bound
    is ``alpha l1_ratio c_j`` over the penalized features, and the unpenalized
    ones (``c_j = 0``) are fitted first (least squares on those columns, by NNLS
    with ``positive``): every penalized coefficient is zero at the optimum
    from there on.

    Parameters
    ----------
    objective : LinearObjective
        The problem (squared loss), any penalty.
    l1_ratio : float
        Share of the L1 term, in ``(0, 1]``.

    Returns
    -------
    alpha : float
        ``max_j |X_c.T (u y_c)|_j / l1_ratio``.
    """
    penalty = objective.penalty
    top = _max_correlation(
        objective.backend,
        objective.X,
        objective.y,
        objective.u,
        objective.y_offset,
        positive=getattr(penalty, "positive", False),
        weights=getattr(penalty, "weights", None),
        centered=objective.fit_intercept,
    )
    return top / l1_ratio


def data_alpha_max(
    X,
    y,
    l1_ratio,
    *,
    sample_weight=None,
    fit_intercept=True,
    positive=False,
    penalty_weights=None,
):
    """Return :func:`alpha_max` of validated data, without building an objective.

    An objective computes the column means when it is built, one pass that the
    grid does not need (see :func:`alpha_max`).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated design matrix.
    y : ndarray of shape (n_samples,)
        Targets, in X's dtype.
    l1_ratio : float
        Share of the L1 term, in ``(0, 1]``.
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Validated weights.
    fit_intercept : bool, default=True
        Whether an intercept is fitted (then ``y`` is centered).
    positive : bool, default=False
        Whether the coefficients are constrained to ``w >= 0``.
    penalty_weights : array-like of shape (n_features,) or None, default=None
        The per-feature factors of alpha (see :func:`alpha_max`).

    Returns
    -------
    alpha : float
        The smallest alpha that zeroes every penalized coefficient.
    """
    backend = get_backend(X)
    n_samples = X.shape[0]
    if sample_weight is None:
        u = np.full(n_samples, 1.0 / n_samples, dtype=X.dtype)
    else:
        u = sample_weight / np.sum(sample_weight)
    y_offset = float(u @ y) if fit_intercept else 0.0
    top = _max_correlation(
        backend,
        X,
        y,
        u,
        y_offset,
        positive=positive,
        weights=penalty_weights,
        centered=fit_intercept,
    )
    return top / l1_ratio


def _max_correlation(
    backend, X, y, u, y_offset, *, positive=False, weights=None, centered=True
):
    """Return ``max_j |X.T (u r)|_j / c_j`` over the penalized features (or 0).

    ``r = y - y_offset`` less its fit on the unpenalized columns; without the
    absolute value with ``positive``. ``centered``: an intercept is fitted.
    """
    c = None if weights is None else np.asarray(weights, dtype=np.float64)
    penalized = slice(None) if c is None else c > 0
    if not X.shape[1] or (c is not None and not np.any(penalized)):
        return 0.0
    r = y - y_offset
    if c is not None and not np.all(penalized):
        r = _unpenalized_residual(X, r, u, ~penalized, centered, positive)
    grad = np.asarray(backend.rmatvec(X, u * r))[penalized]
    if c is not None:
        grad = grad / c[penalized]
    top = float(np.max(grad if positive else np.abs(grad)))
    return max(top, 0.0)


def _unpenalized_residual(X, r, u, columns, centered, positive):
    """Return ``r`` less its weighted least-squares fit on X's ``columns``.

    The unpenalized columns (few, gathered dense) with the intercept when
    ``centered``: their fit is the optimum of those coefficients at ``alpha_max``,
    where every penalized one is zero. Non-negative least squares with
    ``positive``.
    """
    Z = X[:, np.flatnonzero(columns)]
    Z = np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=np.float64)
    if centered:
        Z = Z - u @ Z
    root = np.sqrt(u)
    if positive:
        beta = scipy.optimize.nnls(Z * root[:, None], r * root)[0]
    else:
        beta = np.linalg.lstsq(Z * root[:, None], r * root, rcond=None)[0]
    return r - Z @ beta


def alpha_grid(objective, l1_ratio, n_alphas=100, eps=1e-3):
    """Return ``n_alphas`` values log-spaced from ``alpha_max`` to ``eps * alpha_max``.

    Parameters
    ----------
    objective : LinearObjective
        The problem.
    l1_ratio : float
        Share of the L1 term, in ``(0, 1]``.
    n_alphas, eps
        As for :func:`grid_from_max`.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The grid of :func:`grid_from_max` from ``alpha_max``.
    """
    return grid_from_max(alpha_max(objective, _check_ratio(l1_ratio)), n_alphas, eps)


def _check_ratio(l1_ratio):
    """Return ``l1_ratio`` if an automatic grid exists for it, else raise."""
    if l1_ratio <= 0:
        raise ValueError(
            "An automatic alpha grid needs l1_ratio > 0 (with l1_ratio=0 no finite "
            "alpha zeroes every coefficient); pass the alphas explicitly."
        )
    return l1_ratio


def grid_from_max(top, n_alphas=100, eps=1e-3):
    """Return ``n_alphas`` values log-spaced from ``top`` to ``eps * top``.

    Parameters
    ----------
    top : float
        The largest alpha (``alpha_max``).
    n_alphas : int, default=100
        Number of values.
    eps : float, default=1e-3
        Ratio of the smallest to the largest value.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing grid.
    """
    tiny = np.finfo(np.float64).resolution
    if top <= tiny:
        return np.full(n_alphas, tiny)
    return np.geomspace(top, top * eps, num=n_alphas)


def path_objective(
    X,
    y,
    *,
    sample_weight=None,
    fit_intercept=True,
    l1_ratio=1.0,
    positive=False,
    penalty_weights=None,
):
    """Return the squared-loss objective of a validated problem, for path solving.

    Parameters
    ----------
    X, y, sample_weight, fit_intercept
        As for :func:`data_alpha_max`.
    l1_ratio : float
        Share of the L1 term of the penalties along the path.
    positive, penalty_weights
        The penalty's constraint ``w >= 0`` and per-feature factors of alpha,
        kept at every alpha of the path.

    Returns
    -------
    objective : LinearObjective
        The objective with an elastic-net penalty of ``alpha = 1``.
    """
    return LinearObjective(
        get_backend(X),
        X,
        y,
        get_loss("squared_error"),
        L1L2(1.0, l1_ratio, positive=positive, weights=penalty_weights),
        sample_weight=sample_weight,
        fit_intercept=fit_intercept,
    )


def solve_path(
    objective, alphas, l1_ratio, *, tol, max_iter, coef_init=None, scale=1.0
):
    """Solve along ``alphas`` (in the given order), each start the previous solution.

    Parameters
    ----------
    objective : LinearObjective
        The problem; its penalty (an :class:`~skgd.penalties.L1L2`) gets each
        alpha in turn, its ``positive`` and ``weights`` kept.
    alphas : array-like of shape (n_alphas,)
        Penalty strengths, best given in decreasing order, in the units of
        ``scale`` times the objective's targets.
    l1_ratio : float
        Share of the L1 term.
    tol : float
        Relative duality gap at each alpha.
    max_iter : int
        Iteration budget at each alpha.
    coef_init : ndarray of shape (n_features,) or None
        Start of the first solve.
    scale : float, default=1.0
        The power of two the targets were divided by
        (:func:`~skgd._validation.target_scale`): each alpha's penalty is mapped
        to the objective's units with :func:`~skgd._validation.scaled_problem`
        (the L1 part divided by ``scale``, the L2 part unchanged).

    Returns
    -------
    coefs : ndarray of shape (n_features, n_alphas)
        Solutions, in the objective's units (times ``scale`` in the targets').
    intercepts : ndarray of shape (n_alphas,)
        Intercepts.
    n_iters : ndarray of shape (n_alphas,)
        Iterations per alpha.
    """
    # A path that amortises the Gram matrix over enough alphas solves in its form,
    # where every check of the working sets is free of X (see skgd._planner).
    form = choose_form(objective, "path", len(alphas))
    # Its BLAS calls are small on a small X (wider in the Gram form): on one
    # thread, as a fit's (see skgd._backend._threads), since a call on two waits
    # for both when other processes share the cores.
    with fit_threads(objective.X, gram_path=form == "gram"):
        objective = in_form(objective, form)
        return _solve_path(objective, alphas, l1_ratio, tol, max_iter, coef_init, scale)


def _solve_path(objective, alphas, l1_ratio, tol, max_iter, coef_init, scale):
    """Run :func:`solve_path` (see there) on the objective in its form."""
    xp = objective.xp
    n_features = objective.n_features
    w = (
        xp.zeros(n_features, dtype=objective.dtype)
        if coef_init is None
        else xp.asarray(coef_init / scale, dtype=objective.dtype)
    )
    coefs = np.empty((n_features, len(alphas)), dtype=objective.dtype)
    intercepts = np.empty(len(alphas), dtype=objective.dtype)
    n_iters = np.empty(len(alphas), dtype=int)
    not_converged = []
    # The working sets' gathered columns and Gram matrices, kept from one alpha to
    # the next: each solve starts from the previous one's set.
    spaces = {}
    # The working sets' mode of each kind of penalty (see _mode).
    modes = {}
    template = objective.penalty
    # Each alpha's objective is made from the previous one's, which hands on
    # what it computed of the data alone (the targets' mean, the chain rule's
    # mask of the columns): not again at every alpha.
    problem = objective
    for k, alpha in enumerate(alphas):
        penalty = dataclasses.replace(template, alpha=float(alpha), l1_ratio=l1_ratio)
        if scale != 1.0:
            penalty = scaled_problem(objective.loss, penalty, scale)[1]
        problem = problem.with_penalty(penalty)
        kw = {"max_iter": max_iter, "tol": tol}
        mode = _mode(problem, modes)
        if mode is None:
            res = solve_gd(problem, w, problem.initial_offset(), **kw)
        else:
            res = solve_working_set(
                problem,
                w,
                problem.initial_offset(),
                mode=mode,
                solve_direct=_solve_direct,
                spaces=spaces,
                **kw,
            )
        if not res.converged:
            not_converged.append(float(alpha))
        w = res.coef
        coefs[:, k] = np.asarray(w)
        intercepts[k] = res.intercept
        n_iters[k] = res.n_iter
    if not_converged:
        warn_not_converged(
            "gd",
            max_iter,
            f"at {len(not_converged)} alphas, the smallest {min(not_converged):.3g}",
        )
    return coefs, intercepts, n_iters


def _mode(problem, modes):
    """Return :func:`working_set_mode` of ``problem``, kept in ``modes`` along a path.

    Along a path only the penalty's strengths change, and the mode depends on
    them only through which of its L1 and L2 parts are nonzero: one call per
    kind, where each alpha's call (with the objective's check of its duality
    gap) took 10 to 40 us of a solve's 0.7 to 1.1 ms (GDRegressorCV on 2,000
    x 500, a loaded machine).
    """
    key = (bool(problem.penalty.l1), bool(problem.penalty.l2))
    if key not in modes:
        modes[key] = working_set_mode(problem)
    return modes[key]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "sample_weight": ["array-like", None],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "coef_init": ["array-like", None],
        "positive": ["boolean"],
        "penalty_weights": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def gd_path(
    X,
    y,
    *,
    l1_ratio=0.5,
    eps=1e-3,
    alphas=100,
    sample_weight=None,
    fit_intercept=True,
    tol=1e-4,
    max_iter=1000,
    coef_init=None,
    positive=False,
    penalty_weights=None,
):
    r"""Compute the elastic-net path of the squared loss with the full-batch solver.

    Solves, for each alpha of a decreasing grid,

    .. math::

        \min_{w, b} \frac{1}{2S} \sum_i s_i (y_i - x_i^\top w - b)^2
        + \alpha \left(\rho \|w\|_1 + \frac{1 - \rho}{2} \|w\|_2^2\right),

    each solve warm-started from the previous solution, as
    :func:`sklearn.linear_model.enet_path` does (but fitting the intercept by implicit
    centering, so X need not be centered, and sparse X stays sparse).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data; CSR/CSC sparse matrices are not densified.
    y : array-like of shape (n_samples,)
        Target, of any finite scale (one whose squares overflow or underflow is
        solved divided by a power of two, with the penalty mapped to match, and
        the solutions multiplied back: exactly the path in y).
    l1_ratio : float, default=0.5
        Share of the L1 term, in ``[0, 1]`` (``0`` needs explicit ``alphas``).
    eps : float, default=1e-3
        Length of the automatic grid: ``alpha_min = eps * alpha_max``.
    alphas : int or array-like, default=100
        Number of alphas of the automatic grid (from ``alpha_max``, the smallest
        alpha that zeroes every coefficient, down to ``eps * alpha_max``), or the
        alphas themselves (solved in decreasing order).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights, of any finite sum (only their ratios matter).
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    tol : float, default=1e-4
        Duality gap at each alpha, relative to the objective at zero coefficients.
    max_iter : int, default=1000
        Iteration budget at each alpha.
    coef_init : array-like of shape (n_features,), default=None
        Start of the first solve.
    positive : bool, default=False
        Constrain the coefficients to ``w >= 0`` (as ``enet_path``'s
        ``positive``); ``alpha_max`` is then the largest positive correlation.
    penalty_weights : array-like of shape (n_features,), default=None
        Non-negative factors of alpha, feature by feature (0: unpenalized), as
        GDRegressor's; ``alpha_max`` is computed over the penalized features.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas, in decreasing order.
    coefs : ndarray of shape (n_features, n_alphas)
        The solutions.
    intercepts : ndarray of shape (n_alphas,)
        The intercepts.

    See Also
    --------
    sklearn.linear_model.enet_path : The coordinate-descent path.
    GDRegressorCV : Cross-validated choice of alpha along this path.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skgd import gd_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> alphas, coefs, intercepts = gd_path(X, y, l1_ratio=1.0, alphas=5)
    >>> coefs.shape
    (10, 5)
    >>> [int((coefs[:, k] != 0).sum()) for k in range(5)]
    [0, 4, 7, 9, 10]
    """
    refuse_out_of_core(X, "gd_path")
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32])
    y = check_array(y, ensure_2d=False, dtype=X.dtype)
    if y.ndim != 1:
        raise ValueError(f"gd_path needs a 1-D y; got shape {y.shape}.")
    check_consistent_length(X, y)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        sample_weight = rescale_weights(sample_weight, get_backend(X))
    if penalty_weights is not None:
        penalty_weights = check_penalty_weights(penalty_weights, X.shape[1])
    # Targets whose squares overflow or underflow are solved divided by a power
    # of two, as the estimators do; the grid scales with them (alpha_max is the
    # L1 part's), and the solutions are mapped back.
    scale = target_scale(y, get_backend(X))
    objective = path_objective(
        X,
        y / scale,
        sample_weight=sample_weight,
        fit_intercept=fit_intercept,
        l1_ratio=l1_ratio,
        positive=positive,
        penalty_weights=penalty_weights,
    )
    if isinstance(alphas, numbers.Integral):
        alphas = alpha_grid(objective, l1_ratio, alphas, eps) * scale
    else:
        alphas = _check_alphas(alphas)
    if coef_init is not None:
        coef_init = _check_coef_init(coef_init, X.shape[1])
    coefs, intercepts, _ = solve_path(
        objective,
        alphas,
        l1_ratio,
        tol=tol,
        max_iter=max_iter,
        coef_init=coef_init,
        scale=scale,
    )
    return alphas, coefs * scale, intercepts * scale


def _check_alphas(alphas):
    """Return explicit ``alphas`` as a decreasing float array, or raise."""
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(
            f"alphas must be a positive integer (the size of the grid) or a "
            f"non-empty 1-D array of alphas; got shape {alphas.shape}."
        )
    if not (np.all(np.isfinite(alphas)) and np.all(alphas >= 0)):
        raise ValueError(
            f"alphas must be finite and non-negative; got {alphas.tolist()}."
        )
    return np.sort(alphas)[::-1]


def _check_coef_init(coef_init, n_features):
    """Return ``coef_init`` as a finite float array of shape ``(n_features,)``."""
    coef_init = np.asarray(coef_init, dtype=float)
    if coef_init.shape != (n_features,):
        raise ValueError(
            f"coef_init must have shape ({n_features},), one coefficient per "
            f"feature of X; got shape {coef_init.shape}."
        )
    if not np.all(np.isfinite(coef_init)):
        raise ValueError("coef_init contains NaN or infinity.")
    return coef_init
