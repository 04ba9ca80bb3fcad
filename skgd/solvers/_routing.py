# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Which full-batch solver fits a problem: the rule behind ``solver="auto"``.

The estimators ask :func:`full_batch_solver` once per fit; the rule is written here
only. ``"gd"`` (:func:`~skgd.solvers._gd.solve_gd`) fits every problem; the
proximal Newton solver (:func:`~skgd.solvers._newton.solve_newton`) fits those of
:func:`newton_applies`, and ``"auto"`` picks it where its Hessian is small enough
to pay (:func:`newton_pays`); the quasi-Newton L-BFGS solver
(:func:`~skgd.solvers._lbfgs.solve_lbfgs`) takes the multinomial log loss
(:func:`lbfgs_pays`).
"""

from array_api_compat import is_numpy_namespace

from skgd._contract import provides
from skgd.solvers._gd import solve_gd
from skgd.solvers._lbfgs import lbfgs_applies, solve_lbfgs
from skgd.solvers._newton import solve_newton

# Up to this many features "auto" takes Newton steps: each builds a
# ``n_features**2`` Hessian (``n_samples * n_features**2`` flops, at BLAS-3
# speed) and solves it (``n_features**3 / 3``); it pays where "gd" needs more
# iterations than a few times ``n_features / 10``. Measured on dense binary log
# loss, one BLAS thread, 2 shared cores: AR(1) rho 0.8, 20,000 x 200, L2 1e-4:
# Newton 5 steps 1.8 s, "gd" 78 iterations 6.1 s; but AR(1) rho 0.5, 5,000 rows,
# L2 1e-3 (well conditioned: "gd" needs 20-30 iterations): Newton 1.4 / 4.2 /
# 27 s against "gd" 0.8 / 1.4 / 4.7 s at 200 / 500 / 1,000 features.
NEWTON_MAX_FEATURES = 256
# Below this many samples a fit is so small that fixed costs decide; "gd" stays.
NEWTON_MIN_SAMPLES = 20


def newton_applies(objective):
    """Return whether the proximal Newton solver can fit ``objective``.

    It needs a smooth loss of one output that is not quadratic (the squared loss
    has its own exact routes in ``"gd"``: the closed form and the Gram form) and
    implements ``hessian``; a separable elastic-net-family penalty (L1, L2,
    elastic net or none; no L1 part unless the loss has a conjugate, for the
    duality gap, or has no curvature bound: the deviances); and a
    backend that builds a weighted Gram matrix (every
    in-memory backend and Dask).

    Parameters
    ----------
    objective : LinearObjective
        The problem.

    Returns
    -------
    applies : bool
        Whether ``solver="newton"`` runs Newton steps on it.
    """
    loss, penalty, backend = objective.loss, objective.penalty, objective.backend
    return (
        loss.is_smooth
        and not loss.is_quadratic
        and objective.n_outputs == 1
        and provides(loss, "hessian")
        and penalty.is_separable
        and penalty.elastic_net_weights() is not None
        # Without a duality gap it stops on the Newton decrement, which an L1
        # part does not have, except as the proximal Newton decrement: kept to
        # the deviances (no curvature bound), whose "gd" steps are slow to
        # certify without a gap (the proximal-gradient measure).
        and (
            objective.has_duality_gap
            or not penalty.elastic_net_weights()[0]
            or loss.curvature_bound is None
        )
        and (hasattr(backend, "weighted_gram") or hasattr(backend, "sparse_gram"))
    )


def newton_pays(objective):
    """Return whether ``solver="auto"`` picks Newton for a problem it applies to.

    On numpy and scipy.sparse data with at least :data:`NEWTON_MIN_SAMPLES`
    rows, at least as many rows as columns and at most
    :data:`NEWTON_MAX_FEATURES` columns; without a penalty strength, only for a
    loss whose curvature is positive everywhere (``has_positive_curvature``).
    Wider problems are where the Hessian is too large to build or too singular to
    help: ``"gd"`` keeps them (L-BFGS there took 0.85-1.7x the time of ``"gd"``:
    binary log loss, L2 1e-4, dense 5,000 x 500 and 20,000 x 1,000, sparse
    20,000 x 5,000).
    """
    return (
        is_numpy_namespace(objective.xp)
        and objective.n_samples >= max(NEWTON_MIN_SAMPLES, objective.n_features)
        and objective.n_features <= NEWTON_MAX_FEATURES
        # Without a penalty strength, a loss with linear pieces (huber, modified
        # huber) leaves the Hessian singular wherever the residuals sit on them:
        # the Newton decrement then cannot certify the fit, and "gd" stays. The
        # deviances (no curvature bound) take Newton: for the Tweedie powers
        # outside [1, 2], not convex, its steps find the stationary point.
        and (
            objective.has_duality_gap
            or objective.loss.has_positive_curvature
            or objective.loss.curvature_bound is None
        )
    )


def lbfgs_pays(objective):
    """Return whether ``solver="auto"`` picks L-BFGS for a problem it applies to.

    For the losses of several outputs (the multinomial log loss), whose exact
    Hessian couples the classes (``(n_classes * n_features)**2`` entries, built
    from ``n_classes**2 / 2`` weighted Gram matrices): the quasi-Newton metric
    learns that coupling for the price of a few vectors. Measured on 15,000 x 100
    with 8 classes: 11 iterations against 35 of ``"gd"``, 2.4x faster; on digits
    (10 classes) 68 iterations against 1,317, 30x faster. The problems of one
    output are Newton's (up to :data:`NEWTON_MAX_FEATURES`) or ``"gd"``'s.
    """
    return objective.n_outputs > 1


def full_batch_solver(objective, requested):
    """Return ``(name, solve)``: the full-batch solver that fits ``objective``.

    ``"gd"`` is always itself. ``"newton"`` is Newton where
    :func:`newton_applies`; else the quasi-Newton L-BFGS where it applies (the
    multinomial log loss, with an L2 penalty or none:
    :func:`~skgd.solvers._lbfgs.lbfgs_applies`); else ``"gd"`` (a squared loss, a
    non-smooth loss, a penalty outside the elastic-net family: the fit falls back,
    it does not fail). ``"auto"`` is Newton where it applies and
    :func:`newton_pays`, L-BFGS where it applies and :func:`lbfgs_pays`, else
    ``"gd"``.

    Parameters
    ----------
    objective : LinearObjective
        The problem (of the first target: all targets share X, loss and penalty).
    requested : {"auto", "gd", "newton"}
        The estimator's ``solver``.

    Returns
    -------
    name : {"gd", "newton", "lbfgs"}
        The solver that runs.
    solve : callable
        :func:`~skgd.solvers._gd.solve_gd`,
        :func:`~skgd.solvers._newton.solve_newton` or
        :func:`~skgd.solvers._lbfgs.solve_lbfgs`.
    """
    if requested == "gd":
        return "gd", solve_gd
    if newton_applies(objective) and (requested == "newton" or newton_pays(objective)):
        return "newton", solve_newton
    quasi = lbfgs_applies(objective) and not objective.loss.is_quadratic
    if quasi and (requested == "newton" or lbfgs_pays(objective)):
        return "lbfgs", solve_lbfgs
    return "gd", solve_gd
