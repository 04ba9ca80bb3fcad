# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import make_problem
from scipy.optimize import linprog, minimize
from sklearn.exceptions import ConvergenceWarning

# This file tests a private seam: solve_gd on a LinearObjective, under the estimators.
from skgd import GDRegressor
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import Huber, SquaredEpsilonInsensitive, SquaredError
from skgd.penalties import L1L2, NoPenalty
from skgd.solvers._apg import APGState, Oracle, backtrack, momentum, run
from skgd.solvers._gd import _Measures, solve_gd
from skgd.solvers._gram_enet import solve_gram_enet


def contract_objective(loss, X, y, w, b, alpha):
    """The contract's objective for a smooth loss and an L2 penalty."""
    return float(np.mean(loss.pointwise(y, X @ w + b))) + 0.5 * alpha * (w @ w)


@pytest.mark.parametrize(
    ("name", "loss"),
    [
        ("huber", Huber(1.0)),
        ("squared_epsilon_insensitive", SquaredEpsilonInsensitive(0.5)),
    ],
)
def test_solver_gd_smooth_robust_losses_match_lbfgs(name, loss, seed):
    X, y = make_problem(seed, 80, 6)
    y[:5] += 30  # outliers: the robust part of the loss is active
    alpha = 0.05

    def f(z):
        return contract_objective(loss, X, y, z[:-1], z[-1], alpha)

    def grad(z):
        g = loss.gradient(y, X @ z[:-1] + z[-1]) / len(y)
        return np.append(X.T @ g + alpha * z[:-1], g.sum())

    ref = minimize(
        f,
        np.zeros(7),
        jac=grad,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000},
    )
    est = GDRegressor(
        loss=name, epsilon=loss.epsilon, alpha=alpha, tol=1e-18, max_iter=20_000
    ).fit(X, y)
    ours = contract_objective(loss, X, y, est.coef_, est.intercept_, alpha)
    assert ours <= ref.fun + 1e-10 * abs(ref.fun)
    np.testing.assert_allclose(est.coef_, ref.x[:-1], rtol=1e-4, atol=1e-5)


def test_solver_gd_epsilon_insensitive_matches_linear_program(seed):
    # min 1/n sum max(0, |y - Xw - b| - eps) + alpha ||w||_1 is a linear program.
    X, y = make_problem(seed, 50, 4)
    n, p = X.shape
    eps, alpha = 0.3, 0.02
    # variables: w+ (p), w- (p), b+ , b-, xi (n)
    cost = np.concatenate([np.full(2 * p, alpha), [0, 0], np.full(n, 1 / n)])
    ones = np.ones((n, 1))
    A = np.block(
        [
            [-X, X, -ones, ones, -np.eye(n)],  # y - Xw - b - eps <= xi
            [X, -X, ones, -ones, -np.eye(n)],  # Xw + b - y - eps <= xi
        ]
    )
    rhs = np.concatenate([eps - y, eps + y])
    lp = linprog(cost, A_ub=A, b_ub=rhs, bounds=(0, None), method="highs")
    est = GDRegressor(
        loss="epsilon_insensitive",
        epsilon=eps,
        penalty="l1",
        alpha=alpha,
        tol=1e-7,
        max_iter=50_000,
    ).fit(X, y)
    r = np.abs(y - est.predict(X)) - eps
    ours = np.mean(np.maximum(r, 0)) + alpha * np.abs(est.coef_).sum()
    assert ours <= lp.fun * (1 + 1e-5)
    assert ours == pytest.approx(est.loss_curve_[-1], rel=1e-10)


def test_solver_gd_result_and_callback(seed):
    X, y = make_problem(seed)
    obj = LinearObjective(get_backend(X), X, y, SquaredError(), L1L2(0.1, 0.5))
    seen = []
    res = solve_gd(
        obj,
        np.zeros(X.shape[1]),
        0.0,
        max_iter=500,
        tol=1e-10,
        callback=lambda it, w, value: seen.append((it, value)),
    )
    assert res.converged
    assert res.extra["measure"] <= 1e-10
    assert [it for it, _ in seen] == list(range(1, res.n_iter + 1))
    assert [v for _, v in seen] == res.objective_curve
    # Restarted FISTA: the objective ends at its minimum over the run.
    assert res.objective_curve[-1] <= min(res.objective_curve) + 1e-12


def test_solver_gd_verbose_prints_a_line_per_iteration(capsys, diabetes):
    X, y = diabetes
    est = GDRegressor(penalty="l1", alpha=0.1, verbose=1).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[gd]")]
    assert len(lines) == est.n_iter_
    assert "objective" in lines[0]
    assert "step" in lines[0]


def test_solver_gd_iteration_count_is_scale_free(seed):
    # The Jacobi metric makes the iterates independent of the columns' scales: the
    # same problem in rescaled variables takes the same number of iterations.
    # (The Huber loss: penalty-free least squares is solved in closed form, with no
    # iterations to count.)
    X, y = make_problem(seed, 100, 8)
    scale = np.logspace(-3, 3, 8)
    kw = {"loss": "huber", "epsilon": 1.0, "penalty": None, "tol": 1e-12}
    base = GDRegressor(**kw).fit(sp.csr_matrix(X), y)
    scaled = GDRegressor(**kw).fit(sp.csr_matrix(X * scale), y)
    assert base.n_iter_ > 5
    assert abs(scaled.n_iter_ - base.n_iter_) <= 2
    np.testing.assert_allclose(scaled.coef_ * scale, base.coef_, rtol=1e-5)


@pytest.mark.parametrize(
    "loss", ["squared_error", "huber", "squared_epsilon_insensitive"]
)
@pytest.mark.parametrize("penalty", ["l1", "l2", None])
@pytest.mark.parametrize("problem_seed", [0, 1])
def test_solver_gd_float32_converges_like_float64(loss, penalty, problem_seed):
    # Rounding in float32 predictions once inflated the curvature constant by 1e17
    # and stalled the solver; the backtracking now allows for rounding and stops at
    # the trace bound.
    X, y = make_problem(problem_seed, 60, 6)
    kw = {"loss": loss, "penalty": penalty, "alpha": 0.1, "tol": 1e-6}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        f32 = GDRegressor(**kw).fit(X.astype(np.float32), y)
        f64 = GDRegressor(**kw).fit(X, y)
    assert f32.n_iter_ <= 2 * f64.n_iter_ + 5


class _Quadratic(Oracle):
    """``f(x) = 1/2 (x - x_star).A (x - x_star)`` in the identity metric.

    The stopping measure is the gradient's norm; ``restart=False`` turns the
    adaptive restart off, and ``restarts_seen`` counts the restarts made.
    """

    def __init__(self, A, x_star, *, tol=1e-10, restart=True):
        self.A, self.x_star, self.tol, self.restart = A, x_star, tol, restart
        self.restarts_seen = 0

    def grad(self, x):
        return self.A @ (x - self.x_star)

    def start(self, x, L, L_max=1e6):
        return APGState(x=x, y=x, L=L, L_max=L_max)

    def prox_step(self, state):
        return state.y - self.grad(state.y) / state.L

    def restarts(self, state, cand):
        return self.restart and float((state.y - cand) @ (cand - state.x)) > 0

    def curvature(self, state, cand, beta):
        dx = cand - state.y
        return float(dx @ self.A @ dx), float(dx @ dx), 0.0

    def accept(self, state, cand, beta, n_iter):
        self.restarts_seen += state.t == momentum(1.0)[0]
        state.x, state.y = cand, cand + beta * (cand - state.x)
        state.measure = float(np.linalg.norm(self.grad(cand)))
        state.done = state.measure <= self.tol
        r = cand - self.x_star
        return 0.5 * float(r @ self.A @ r)


def test_apg_momentum_starts_without_extrapolation():
    # t = 1 (the start, or a restart) gives beta = 0: a plain gradient step.
    assert momentum(1.0) == (pytest.approx(0.5 * (1 + np.sqrt(5))), 0.0)
    t, beta = momentum(3.0)
    assert t == pytest.approx(0.5 * (1 + np.sqrt(37)))
    assert 0 < beta < 1


def test_apg_backtracking_raises_the_step_constant_to_the_curvature():
    # f(x) = 2 x**2 has curvature 4: a step at L = 0.01 overshoots, and the first
    # rejection raises L to 1.1 times the curvature measured along the step.
    oracle = _Quadratic(np.array([[4.0]]), np.array([1.0]))
    state = oracle.start(np.array([0.0]), L=0.01)
    cand, t, beta = backtrack(oracle, state, 1)
    assert state.L == pytest.approx(4.4)
    np.testing.assert_allclose(cand, [4.0 / 4.4])
    assert (t, beta) == momentum(1.0)
    # At the upper bound the step is taken whatever the test says.
    state = oracle.start(np.array([0.0]), L=0.01, L_max=2.0)
    backtrack(oracle, state, 1)
    assert state.L == 2.0


def test_apg_run_reaches_known_optimum_and_restarts():
    # An ill-conditioned quadratic: momentum overshoots along the stiff direction,
    # and the adaptive restart recovers linear convergence.
    A = np.diag([1.0, 1e-3])
    x_star = np.array([1.0, -2.0])
    runs = {}
    for restart in (True, False):
        oracle = _Quadratic(A, x_star, tol=1e-9, restart=restart)
        state = run(oracle, oracle.start(np.zeros(2), L=1.0), first=1, last=20_000)
        runs[restart] = (state, oracle.restarts_seen)
    state, n_restarts = runs[True]
    assert state.done
    assert n_restarts > 0
    np.testing.assert_allclose(state.x, x_star, atol=1e-5)
    assert len(state.curve) == state.n_iter
    assert runs[False][0].n_iter > state.n_iter


def test_apg_run_stops_at_max_iter():
    oracle = _Quadratic(np.diag([1.0, 1e-3]), np.array([1.0, -2.0]), tol=0.0)
    state = run(oracle, oracle.start(np.zeros(2), L=1.0), first=3, last=7)
    assert state.n_iter == 5
    assert not state.done


def test_proximal_gradient_measure_without_penalty(seed):
    # Without a penalty the proximal step is a gradient step, and the measure is
    # (||grad_w||^2_{D^-1} + grad_c^2) / (2 L); it vanishes at least squares.
    X, y = make_problem(seed, 40, 3)
    obj = LinearObjective(get_backend(X), X, y, SquaredError(), NoPenalty())
    m = _Measures(obj, obj, threshold=0.0, stage_threshold=0.0)
    w, c, L = np.zeros(3), 0.3, 2.0
    _, gw, gc = obj.gradient(obj.raw(w, c))
    expected = (np.sum(gw * gw / m.d) + gc * gc) / (2 * L)
    assert m.prox_measure(w, gw, gc, L) == pytest.approx(expected, rel=1e-12)
    w_ls = np.linalg.lstsq(X - X.mean(axis=0), y - y.mean(), rcond=None)[0]
    _, gw, gc = obj.gradient(obj.raw(w_ls, obj.initial_offset()))
    assert m.prox_measure(w_ls, gw, gc, L) < 1e-20


def test_gram_solver_reaches_soft_thresholding_on_orthogonal_design():
    # With G = I the elastic net separates: w_j = S(q_j, l1) / (1 + l2), and the
    # duality gap certifies it.
    xp = get_backend(np.zeros(1)).xp
    q = np.array([3.0, -0.2, -1.5, 0.05])
    penalty = L1L2(0.5, 0.8)  # l1 = 0.4, l2 = 0.1
    l1, l2 = penalty.l1, penalty.l2
    expected = np.sign(q) * np.maximum(np.abs(q) - l1, 0) / (1 + l2)
    w, gap, curve = solve_gram_enet(
        np.eye(4),
        q,
        float(q @ q),
        penalty,
        np.zeros(4),
        threshold=1e-14,
        max_iter=100,
        xp=xp,
    )
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    assert gap <= 1e-14
    assert len(curve) >= 1
