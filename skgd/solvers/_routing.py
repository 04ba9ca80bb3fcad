# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Which full-batch solver fits a problem: the rule behind ``solver="auto"``.

The estimators ask :func:`full_batch_solver` once per fit; the rule is written here
only. ``"gd"`` (:func:`~skgd.solvers._gd.solve_gd`) fits every problem; the
proximal Newton solver (:func:`~skgd.solvers._newton.solve_newton`) fits those of
:func:`newton_applies`, and ``"auto"`` picks it where its Hessian is small enough
to pay (:func:`newton_pays`), with ``"gd"`` going on where it stalls
(:func:`solve_newton_then_gd`); the quasi-Newton L-BFGS solver
(:func:`~skgd.solvers._lbfgs.solve_lbfgs`) takes the multinomial log loss and,
on dense data wider than Newton pays for, the penalized smooth losses of one
output (:func:`lbfgs_pays`); the pinball, hinge and epsilon-insensitive losses with
an elastic-net-family penalty or none are linear (with an L2 part, quadratic)
programs, solved exactly by interior points
(:func:`~skgd.solvers._interior_point.solve_interior_point`, where
:func:`interior_point_applies` and :func:`interior_point_pays`); elsewhere (Dask
data with a penalty that gives ``"gd"`` a duality gap and Array API data with
``"newton"``) a non-smooth loss with a penalty
strength takes Newton steps on its smoothings
(:func:`~skgd.solvers._smoothed_newton.solve_smoothed_newton`, where
:func:`smoothed_newton_applies` and :func:`smoothed_newton_pays`).
"""

from array_api_compat import is_numpy_namespace

from skgd._backend import is_sparse
from skgd._contract import provides
from skgd._gaps import box_gap_applies
from skgd.losses._quantile import Pinball
from skgd.solvers._gd import solve_gd
from skgd.solvers._interior_point import is_pinball_sum, solve_interior_point
from skgd.solvers._lbfgs import lbfgs_applies, solve_lbfgs
from skgd.solvers._newton import solve_newton
from skgd.solvers._result import SolverResult
from skgd.solvers._smoothed_newton import _shifted, solve_smoothed_newton

# Up to this many features "auto" takes Newton steps: each builds a
# ``n_features**2`` Hessian (``n_samples * n_features**2`` flops, at BLAS-3
# speed) and solves it (``n_features**3 / 3``); it pays where "gd" needs more
# iterations than a few times ``n_features / 10``. Measured on dense binary log
# loss, one BLAS thread, 2 shared cores: AR(1) rho 0.8, 20,000 x 200, L2 1e-4:
# Newton 5 steps 1.8 s, "gd" 78 iterations 6.1 s; but AR(1) rho 0.5, 5,000 rows,
# L2 1e-3 (well conditioned: "gd" needs 20-30 iterations): Newton 1.4 / 4.2 /
# 27 s against "gd" 0.8 / 1.4 / 4.7 s at 200 / 500 / 1,000 features.
NEWTON_MAX_FEATURES = 256
# Above NEWTON_MAX_FEATURES, on dense numpy data, "auto" fits the penalized
# smooth losses of one output by L-BFGS (wide_lbfgs_pays): a Newton step's
# Hessian grows as n_features**2, and L-BFGS's few vectors of curvature history
# take up to 7x fewer passes than "gd". Measured in one process, alternating,
# median of 5 (2 where more than 6x the fastest), one BLAS thread, 2 cores
# shared (load average at the row's end): seconds to 1e-6 relative
# suboptimality (iterations), standardized AR(1) features, L2 alpha 1e-4, L1
# alpha_max / 20, huber epsilon 1 on a standardized target; LogisticRegression's
# lbfgs and newton-cholesky ("LR n-ch") beside, Newton and newton-cholesky not
# run where far slower. With L1, L-BFGS runs L-BFGS-B on w's positive and
# negative parts (see solve_lbfgs); the 5-class row is L-BFGS's already.
#
#   problem     n x p       rho         "gd"    Newton     L-BFGS LR lbfgs LR n-ch load
#   log, L2     5k x 300    0.8   0.69 (130)  0.21 (6)  0.17 (44)     0.18    0.24    4
#   log, L2     5k x 300    0      0.20 (24)  0.34 (6)   0.08 (9)     0.04    0.44   12
#   log, L2     5k x 500    0.8   0.74 (146)  0.38 (6)  0.19 (52)     0.20    0.39    4
#   log, L2     5k x 500    0      0.29 (30)  0.89 (6)  0.11 (11)     0.10    1.06   12
#   log, L2     5k x 1,000  0.8   2.46 (258)  1.77 (7) 0.52 (106)     0.67    2.46    3
#   log, L2     5k x 1,000  0      1.21 (51)  6.01 (8)  0.48 (22)     0.36    5.57   11
#   log, L2     5k x 2,000  0.8 57.11 (1300) 56.05 (9) 6.42 (191)     4.74   30.03   12
#   log, L2     20k x 300   0.8   3.65 (115)  1.35 (6)  1.24 (39)     1.00    1.79   10
#   log, L2     20k x 1,000 0.8  13.44 (130)         -  3.45 (44)     3.36       -   13
#   log, L2     20k x 1,000 0      2.12 (25)         -   0.80 (9)     0.49       -   12
#   log, L1     5k x 300    0.8    0.95 (88)  0.49 (5)  0.45 (42)        -       -   12
#   log, L1     5k x 300    0      0.42 (32)  0.75 (6)  0.17 (10)        -       -   13
#   log, L1     5k x 1,000  0.8    2.20 (87)  8.10 (5)  1.22 (52)        -       -    9
#   log, L1     5k x 1,000  0      0.99 (40)  9.07 (6)  0.42 (16)        -       -   12
#   log, L1     5k x 2,000  0.8   6.11 (128)         -  2.14 (61)        -       -   15
#   huber, L2   5k x 300    0.8    0.66 (75)  0.35 (5)  0.48 (48)        -       -   12
#   huber, L2   5k x 300    0      0.10 (12)  0.33 (4)   0.10 (7)        -       -   13
#   huber, L2   5k x 1,000  0.8   3.94 (228)  5.47 (6)  1.38 (68)        -       -   11
#   huber, L2   5k x 1,000  0      0.32 (15)  4.53 (5)  0.24 (12)        -       -   12
#   huber, L2   5k x 2,000  0.8   9.12 (289)         -  2.85 (90)        -       -   14
#   5-class, L2 5k x 300    0.8   4.97 (264)         -  0.91 (62)     1.05   10.45    9
#   5-class, L2 5k x 1,000  0.8 79.38 (1443)         - 10.31 (197)     9.75       -   11
#
# The elastic net and the squared epsilon-insensitive and modified huber losses
# (first routed here on the strength of the L1 and huber rows), measured apart:
# CPU seconds at tol=1e-6 (every solver stops on its duality gap there, so each
# fit is certified within 1e-6), in one process, "auto" (L-BFGS), "gd" and
# "newton" alternating, median of 3 (1 for a solver more than 6x the fastest;
# one fit each at 20,000 x 2,000, Newton not run),
# one BLAS thread, 2 cores shared, load average at the row's end; standardized
# AR(1) features, the elastic net on the log loss with l1_ratio 0.5 and alpha a
# twentieth of the smallest giving all-zero coefficients, L2 alpha 1e-4,
# squared epsilon-insensitive epsilon 0.1 on a standardized target:
#
#   problem         n x p       rho        "gd"    Newton      L-BFGS  load
#   log, enet       5k x 300    0.8   0.18 (44)  0.12 (5)   0.10 (31)    10
#   log, enet       5k x 300    0     0.07 (20)  0.11 (5)    0.03 (8)    11
#   log, enet       5k x 500    0.8   0.27 (61)  0.31 (6)   0.13 (35)    20
#   log, enet       5k x 500    0     0.11 (20)  0.27 (5)    0.05 (9)    20
#   log, enet       5k x 1,000  0.8   0.56 (68)  1.69 (6)   0.29 (37)    13
#   log, enet       5k x 1,000  0     0.25 (30)  1.60 (6)   0.11 (14)    20
#   log, enet       20k x 2,000 0.8   3.52 (62)         -   1.48 (35)    20
#   log, enet       20k x 2,000 0     1.98 (26)         -   0.65 (10)    27
#   sq-eps-ins, L2  5k x 300    0.8  0.36 (144)  0.11 (5)   0.18 (66)    11
#   sq-eps-ins, L2  5k x 300    0     0.05 (18)  0.11 (5)   0.03 (11)    11
#   sq-eps-ins, L2  5k x 500    0.8  0.72 (230)  0.26 (5)   0.26 (75)    20
#   sq-eps-ins, L2  5k x 500    0     0.07 (20)  0.30 (6)   0.06 (14)    20
#   sq-eps-ins, L2  5k x 1,000  0.8  1.39 (255)  1.57 (6)   0.52 (93)    18
#   sq-eps-ins, L2  5k x 1,000  0     0.17 (27)  1.80 (6)   0.13 (19)    20
#   sq-eps-ins, L2  20k x 2,000 0.8  6.87 (201)         -   2.61 (74)    22
#   sq-eps-ins, L2  20k x 2,000 0     0.81 (21)         -   0.55 (13)    27
#   mod-huber, L2   5k x 300    0.8  0.49 (183)  0.14 (7)   0.20 (69)    11
#   mod-huber, L2   5k x 300    0     0.07 (30)  0.13 (7)   0.04 (15)    12
#   mod-huber, L2   5k x 500    0.8  0.58 (175)  0.34 (7)   0.29 (87)    20
#   mod-huber, L2   5k x 500    0     0.16 (41)  0.33 (7)   0.06 (16)    20
#   mod-huber, L2   5k x 1,000  0.8  3.55 (511)  2.19 (8)  0.83 (142)    21
#   mod-huber, L2   5k x 1,000  0    0.68 (100)  2.51 (9)   0.22 (37)    20
#   mod-huber, L2   20k x 2,000 0.8 11.08 (221)         -   3.17 (81)    24
#   mod-huber, L2   20k x 2,000 0     1.77 (36)         -   0.76 (17)    26
#
# L-BFGS took 0.23-0.76x the CPU time of "gd" on every row, and less than
# Newton's on all but the correlated 300-feature rows of the squared
# epsilon-insensitive and modified huber losses (Newton 0.63x and 0.72x of
# L-BFGS's there, as huber's at 300 above; even at 500 for the squared
# epsilon-insensitive loss), where the independent rows go 3-4x the other way:
# the routing stands as measured.
#
# Near the limit, Newton against L-BFGS forced in its place (NEWTON_MAX_FEATURES
# set to 0), measured the same way (median of 5; CPU seconds, iterations):
#
#   problem        n x p     rho     Newton      L-BFGS  ratio  load
#   log, L2        5k x 200  0.8  0.078 (7)  0.081 (59)   1.04    18
#   huber, L2      5k x 200  0.8  0.059 (5)  0.066 (59)   1.13    18
#   mod-huber, L2  5k x 200  0.8  0.073 (6)  0.104 (62)   1.43    18
#   log, L2        5k x 200  0    0.073 (6)  0.022 (10)   0.31    18
#   huber, L2      5k x 200  0    0.058 (5)   0.014 (8)   0.24    18
#   mod-huber, L2  5k x 200  0    0.089 (7)  0.022 (11)   0.24    18
#   log, L2        5k x 256  0.8  0.142 (7)  0.152 (58)   1.06    18
#   huber, L2      5k x 256  0.8  0.124 (6)  0.151 (61)   1.22    18
#   mod-huber, L2  5k x 256  0.8  0.145 (7)  0.177 (64)   1.22    20
#   log, L2        5k x 256  0    0.154 (7)  0.045 (12)   0.29    20
#   huber, L2      5k x 256  0    0.105 (5)   0.027 (9)   0.26    21
#   mod-huber, L2  5k x 256  0    0.138 (7)  0.032 (13)   0.23    22
#   log, L2        5k x 300  0.8  0.139 (7)  0.152 (66)   1.09    22
#   huber, L2      5k x 300  0.8  0.128 (6)  0.137 (61)   1.07    23
#   mod-huber, L2  5k x 300  0.8  0.143 (7)  0.172 (69)   1.20    23
#   log, L2        5k x 300  0    0.150 (7)  0.037 (12)   0.25    23
#   huber, L2      5k x 300  0    0.104 (4)   0.032 (9)   0.31    23
#   mod-huber, L2  5k x 300  0    0.163 (7)  0.050 (15)   0.31    23
#   log, L2        5k x 400  0.8  0.258 (7)  0.216 (64)   0.84    23
#   huber, L2      5k x 400  0.8  0.159 (4)  0.237 (66)   1.49    23
#   mod-huber, L2  5k x 400  0.8  0.274 (7)  0.279 (75)   1.02    23
#   log, L2        5k x 400  0    0.258 (7)  0.058 (14)   0.22    22
#   huber, L2      5k x 400  0    0.202 (6)  0.038 (11)   0.19    22
#   mod-huber, L2  5k x 400  0    0.259 (7)  0.059 (14)   0.23    22
#
# From 200 to 400 features L-BFGS took 0.84-1.49x Newton's time on correlated
# features and 0.19-0.31x on independent ones, with no crossover in width
# between: the limit is where Newton's Hessian stops being cheap, not where
# L-BFGS starts to win (a lower limit for L-BFGS alone would need the
# ill-conditioned designs measured too).
# Below this many samples a fit is so small that fixed costs decide; "gd" stays.
NEWTON_MIN_SAMPLES = 20
# Up to this many features "auto" takes Newton steps on the smoothings of a
# non-smooth loss with an L1 part, where the interior points do not apply
# (see smoothed_newton_pays: on numpy and scipy.sparse data they take every
# such problem, with or without w >= 0). The limit was measured before they
# did, at defaults, hinge, 2 shared cores under a load of 15 (time against
# "gd", which stopped at max_iter with a warning): standardized breast cancer
# (30 features) 8.1 s against 5.6 s, certified; digits (64) 17 s for one
# class against the rest, where "gd" took 16 s for all ten;
# make_classification(5000, 200) 134 s against 13 s.
SMOOTHED_L1_MAX_FEATURES = 32


def newton_applies(objective):
    """Return whether the proximal Newton solver can fit ``objective``.

    It needs a smooth loss of one output that is not quadratic (the squared loss
    has its own exact routes in ``"gd"``: the closed form and the Gram form) and
    implements ``hessian``; a separable elastic-net-family penalty (L1, L2,
    elastic net or none; no L1 part unless the loss has a conjugate, for the
    duality gap, or has no curvature bound: the deviances; the constraint
    ``w >= 0`` only with an L1 part); and a backend that builds a weighted Gram
    matrix (every in-memory backend and Dask).

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
    shape = penalty.elastic_net_shape()
    return (
        loss.is_smooth
        and not loss.is_quadratic
        and objective.n_outputs == 1
        and provides(loss, "hessian")
        and penalty.is_separable
        and shape is not None
        # The constraint w >= 0 only with an L1 part: the model's L1 step is
        # the Gram coordinate descent, which keeps it; its ridge step does not.
        and (not shape[2] or shape[0] > 0)
        # Without a duality gap it stops on the Newton decrement, which an L1
        # part does not have, except as the proximal Newton decrement: kept to
        # the deviances (no curvature bound), whose "gd" steps are slow to
        # certify without a gap (the proximal-gradient measure).
        and (objective.has_duality_gap or not shape[0] or loss.curvature_bound is None)
        and (hasattr(backend, "weighted_gram") or hasattr(backend, "sparse_gram"))
    )


def smoothed_newton_applies(objective):
    """Return whether Newton steps on the smoothings of a non-smooth loss fit it.

    A non-smooth loss (hinge, epsilon-insensitive) whose smoothed losses Newton
    applies to (:func:`newton_applies`), with an elastic-net-family penalty of
    positive strength: it gives the duality gap that certifies the non-smooth
    problem. Where the smoothed loss has no curvature (samples far from the
    kink) an L2 part keeps the model positive definite; with an L1 part the
    model is damped (see :func:`~skgd.solvers._newton.solve_newton`), as its
    Hessian is singular where few samples sit near the kink. Without a penalty
    (no gap) ``"gd"`` keeps them. Where it applies,
    :func:`~skgd.solvers._smoothed_newton.solve_smoothed_newton` fits
    ``objective`` (a :class:`~skgd._objective.LinearObjective`).
    """
    loss, penalty = objective.loss, objective.penalty
    if loss.is_smooth or not provides(loss, "smoothed"):
        return False
    weights = penalty.elastic_net_weights() if penalty.is_separable else None
    if weights is None or not weights[0] + weights[1] > 0:
        return False
    return newton_applies(objective.with_loss(loss.smoothed(1.0)))


def interior_point_applies(objective):
    """Return whether the interior-point solver fits ``objective`` exactly.

    A loss that is a sum of pinball losses
    (:func:`~skgd.solvers._interior_point.pinball_pieces`: quantile regression,
    the hinge, the epsilon-insensitive loss) of one output, with an
    elastic-net-family penalty (per-feature weights and the constraint ``w >=
    0`` included) or none, on numpy or scipy.sparse data, or Dask data of at
    most :data:`NEWTON_MAX_FEATURES` columns (each step's Gram matrix is a
    reduction brought to the client, as a Newton step's Hessian is) where the
    problem has no duality gap for ``"gd"`` (no penalty, or a feature of
    penalty weight 0), with a backend that builds weighted Gram matrices.
    With an L1 part or none the problem is a linear program; an L2 part makes
    it a quadratic one, a diagonal in each step's normal matrix.

    On Dask this is what certifies these losses without a penalty or with
    per-feature weights of 0, where ``"gd"`` has no duality gap: the interior
    points are exact (the program's optimum, stopped on the gap of the true
    problem), and a step costs a fixed number of reductions over the row
    chunks whatever the data's conditioning. Projecting ``"gd"``'s dual point
    onto the unpenalized features' constraints would give a gap, but not a
    small one: its smoothed steps without a penalty need ``O(1 / tol)``
    iterations.
    """
    loss, penalty, backend = objective.loss, objective.penalty, objective.backend
    return (
        is_pinball_sum(loss)
        and objective.n_outputs == 1
        and penalty.is_separable
        and getattr(penalty, "l2", None) is not None
        and is_numpy_namespace(objective.coef_xp)
        and (hasattr(backend, "weighted_gram") or hasattr(backend, "sparse_gram"))
        # Off numpy (Dask) each step's Gram matrix is a reduction brought to
        # the client: kept as small as a Newton step's Hessian, and only where
        # "gd" has no duality gap to certify its fit (a step costs a few
        # round trips through the scheduler, a "gd" iteration one).
        and (
            is_numpy_namespace(objective.xp)
            or (
                objective.n_features <= NEWTON_MAX_FEATURES
                and not objective.has_duality_gap
            )
        )
    )


def interior_point_pays(objective):
    """Return whether ``solver="auto"`` picks the interior points where they apply.

    Always for quantile regression; for the hinge and epsilon-insensitive
    losses up to :data:`NEWTON_MAX_FEATURES` columns, where each step's
    ``n_features**2`` Gram matrix costs what a Newton step's Hessian does.
    Measured at defaults (alpha 1e-4, one BLAS thread, 2 shared cores),
    hinge, standardized digits (64 features, ten classes one against the
    rest) and make_classification(5000, 200): 12-33 steps per class, 0.3-1.5
    s in all, against 2-6 s for Newton steps on the smoothings with L2, and
    warnings at max_iter with L1 (see :data:`SMOOTHED_L1_MAX_FEATURES`).
    Wider hinge and epsilon-insensitive problems go to ``"gd"``.
    """
    return (
        isinstance(objective.loss, Pinball)
        or objective.n_features <= NEWTON_MAX_FEATURES
    )


def smoothed_newton_pays(objective):
    """Return whether ``solver="auto"`` picks Newton steps on the smoothings.

    Where :func:`newton_pays`, and with an L1 part only up to
    :data:`SMOOTHED_L1_MAX_FEATURES` columns, where the stages' pieces (which
    samples sit near the kink) and the support change together and each step
    runs a coordinate descent on the Gram matrix. It is asked only where the
    interior points do not apply (:func:`full_batch_solver` asks
    :func:`interior_point_applies` first), and :func:`newton_pays` holds only
    on numpy and scipy.sparse data, where they apply to every problem that
    :func:`smoothed_newton_applies` to, the constraint ``w >= 0`` included:
    ``"auto"`` does not pick the smoothings today. ``solver="newton"`` runs
    them on Dask and Array API data, without this test.
    """
    shape = objective.penalty.elastic_net_shape()
    return newton_pays(objective) and (
        not shape[0] or objective.n_features <= SMOOTHED_L1_MAX_FEATURES
    )


def newton_pays(objective):
    """Return whether ``solver="auto"`` picks Newton for a problem it applies to.

    On numpy and scipy.sparse data with at least :data:`NEWTON_MIN_SAMPLES`
    rows, at least as many rows as columns and at most
    :data:`NEWTON_MAX_FEATURES` columns; without a penalty strength, only for a
    loss whose curvature is positive everywhere (``has_positive_curvature``)
    or whose conjugate is quadratic on a box (huber and modified huber, at most
    :data:`~skgd._gaps.MAX_UNPENALIZED` columns: :func:`~skgd._gaps.box_gap_applies`).
    Wider problems are where the Hessian is too large to build or too singular to
    help: L-BFGS takes them on dense data with a penalty (:func:`wide_lbfgs_pays`),
    ``"gd"`` the others.
    """
    return (
        is_numpy_namespace(objective.xp)
        and objective.n_samples >= max(NEWTON_MIN_SAMPLES, objective.n_features)
        and objective.n_features <= NEWTON_MAX_FEATURES
        # Without a penalty strength, a loss with linear pieces (huber, modified
        # huber) leaves the Hessian singular wherever the residuals sit on them:
        # the Newton decrement cannot certify the fit, but the gap of the dual
        # point corrected on the quadratic pieces can, once damped Newton steps
        # on the generalized Hessian have settled the pieces (finitely many);
        # wider problems stay with "gd". The deviances (no curvature bound)
        # take Newton: for the Tweedie powers outside [1, 2], not convex, its
        # steps find the stationary point.
        and (
            objective.has_duality_gap
            or objective.loss.has_positive_curvature
            or objective.loss.curvature_bound is None
            or box_gap_applies(objective)
        )
    )


def lbfgs_pays(objective):
    """Return whether ``solver="auto"`` picks L-BFGS for a problem it applies to.

    For the losses of several outputs (the multinomial log loss), whose exact
    Hessian couples the classes (``(n_classes * n_features)**2`` entries, built
    from ``n_classes**2 / 2`` weighted Gram matrices): the quasi-Newton metric
    learns that coupling for the price of a few vectors. Measured on 15,000 x 100
    with 8 classes: 11 iterations against 35 of ``"gd"``, 2.4x faster; on digits
    (10 classes) 68 iterations against 1,317, 30x faster; with L1 on digits, 154
    iterations where ``"gd"`` did not meet ``tol`` in 1,000.

    For one output, where :func:`wide_lbfgs_pays`: dense data wider than
    :data:`NEWTON_MAX_FEATURES`, where a Newton step's Hessian costs more than
    the iterations it saves. The other problems of one output are Newton's (up
    to :data:`NEWTON_MAX_FEATURES`) or ``"gd"``'s.
    """
    return objective.n_outputs > 1 or wide_lbfgs_pays(objective)


def wide_lbfgs_pays(objective):
    """Return whether ``"auto"`` picks L-BFGS for a wide problem of one output.

    On numpy dense data with more than :data:`NEWTON_MAX_FEATURES` columns and
    at least as many rows as columns, a loss with a curvature bound (binary log
    loss, huber, squared epsilon-insensitive, modified huber; the deviances keep
    ``"gd"``) and a penalty strength with a duality gap, which certifies the
    L-BFGS iterates (without one L-BFGS has no bound on the suboptimality). The
    measurements are in the comments above :data:`NEWTON_MIN_SAMPLES`: L-BFGS
    took 0.11-0.76x the time of ``"gd"`` and 0.05-0.5x Newton's from 500
    features on, L1 and L2 alike; for the elastic net, the squared
    epsilon-insensitive and the modified huber losses 0.23-0.76x the CPU time
    of ``"gd"`` and 0.07-1.0x Newton's from 500 features on (the squared
    epsilon-insensitive loss on correlated features: Newton's time at 500
    features, 1.6x it at 300). Sparse data keep ``"gd"``: there L-BFGS took
    0.85-1.7x its time (binary log loss, L2 1e-4, 20,000 x 5,000).
    """
    weights = objective.penalty.elastic_net_weights()
    return (
        is_numpy_namespace(objective.xp)
        and not is_sparse(objective.X)
        and objective.n_features > NEWTON_MAX_FEATURES
        and objective.n_samples >= objective.n_features
        and objective.loss.curvature_bound is not None
        and objective.has_duality_gap
        and weights is not None
        and weights[0] + weights[1] > 0
    )


def solve_newton_then_gd(
    objective, w0, c0, *, max_iter, tol, verbose=0, callback=None, hessian=None
):
    """Run :func:`~skgd.solvers._newton.solve_newton`; where it stalls, ``"gd"``.

    Newton can stall short of ``tol`` where ``"gd"`` certifies the problem: a
    Hessian of rounding size (an L2 of 1e-300 with every residual on Huber's
    linear part) gives a step that overflows, and feature scales spanning 1e-50
    to 1e50 a step whose line search finds no decrease. A stalled fit is not a
    diverged one: :func:`~skgd.solvers._gd.solve_gd` goes on from Newton's last
    point (its best: the line search is monotone) with the iterations left; a
    ``verbose`` line says so, and ``extra["solver"]`` of the result is ``"gd"``.
    The parameters and result are those of
    :func:`~skgd.solvers._newton.solve_newton`.
    """
    kw = {"tol": tol, "verbose": verbose}
    res = solve_newton(
        objective, w0, c0, max_iter=max_iter, callback=callback, hessian=hessian, **kw
    )
    stall = res.extra.get("stalled")
    if stall is None:
        return res
    done = res.n_iter
    if verbose:
        print(f"[newton] stalled after {done} steps ({stall}): solver='gd' goes on")
    w, c, left = res.coef, res.extra["offset"], max_iter - done
    rest = solve_gd(
        objective, w, c, max_iter=left, callback=_shifted(callback, done), **kw
    )
    return SolverResult(
        rest.coef,
        rest.intercept,
        done + rest.n_iter,
        rest.converged,
        res.objective_curve + rest.objective_curve,
        {**rest.extra, "solver": "gd"},
    )


def full_batch_solver(objective, requested):
    """Return ``(name, solve)``: the full-batch solver that fits ``objective``.

    ``"gd"`` is always itself. ``"newton"`` is Newton where
    :func:`newton_applies`; else the quasi-Newton L-BFGS where it applies (the
    multinomial log loss, with an elastic-net-family penalty or none:
    :func:`~skgd.solvers._lbfgs.lbfgs_applies`); else ``"gd"`` (a squared loss, a
    non-smooth loss, a penalty outside the elastic-net family: the fit falls back,
    it does not fail). ``"auto"`` is Newton where it applies and
    :func:`newton_pays`, L-BFGS where it applies and :func:`lbfgs_pays`, else
    ``"gd"``. Both ``"auto"`` and ``"newton"`` solve the sums of pinball
    losses (quantile regression, the hinge, the epsilon-insensitive loss) with
    an elastic-net-family penalty or none by interior points where
    :func:`interior_point_applies` (and, for ``"auto"``,
    :func:`interior_point_pays`). Elsewhere a non-smooth loss with a penalty
    strength is fitted by Newton steps on its smoothings where
    :func:`smoothed_newton_applies` and (for ``"auto"``)
    :func:`smoothed_newton_pays`.

    Parameters
    ----------
    objective : LinearObjective
        The problem (of the first target: all targets share X, loss and penalty).
    requested : {"auto", "gd", "newton"}
        The estimator's ``solver``.

    Returns
    -------
    name : {"gd", "newton", "lbfgs", "interior-point"}
        The solver that runs.
    solve : callable
        :func:`~skgd.solvers._gd.solve_gd`,
        :func:`solve_newton_then_gd` (Newton, ``"gd"`` where it stalls),
        :func:`~skgd.solvers._smoothed_newton.solve_smoothed_newton`,
        :func:`~skgd.solvers._lbfgs.solve_lbfgs` or
        :func:`~skgd.solvers._interior_point.solve_interior_point`.
    """
    if requested == "gd":
        return "gd", solve_gd
    if interior_point_applies(objective) and (
        requested == "newton" or interior_point_pays(objective)
    ):
        return "interior-point", solve_interior_point
    if newton_applies(objective) and (requested == "newton" or newton_pays(objective)):
        return "newton", solve_newton_then_gd
    if smoothed_newton_applies(objective) and (
        requested == "newton" or smoothed_newton_pays(objective)
    ):
        return "newton", solve_smoothed_newton
    quasi = lbfgs_applies(objective) and not objective.loss.is_quadratic
    if quasi and (requested == "newton" or lbfgs_pays(objective)):
        return "lbfgs", solve_lbfgs
    return "gd", solve_gd
