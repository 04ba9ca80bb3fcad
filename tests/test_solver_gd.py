# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import warnings

import numpy as np
import pytest
from _data import make_problem
from scipy.optimize import linprog, minimize
from sklearn.exceptions import ConvergenceWarning

# This file tests a private seam: solve_gd on a LinearObjective, under the estimators.
from skgd import GDRegressor
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import Huber, SquaredEpsilonInsensitive, SquaredError
from skgd.penalties import L1L2
from skgd.solvers._gd import solve_gd


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
    X, y = make_problem(seed, 100, 8)
    scale = np.logspace(-3, 3, 8)
    base = GDRegressor(penalty=None, tol=1e-12).fit(X, y)
    scaled = GDRegressor(penalty=None, tol=1e-12).fit(X * scale, y)
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
