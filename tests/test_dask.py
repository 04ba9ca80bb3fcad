# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Dask inputs on a real distributed LocalCluster: same optimum, no gathering."""

import pickle

import numpy as np
import pytest
from _data import make_problem

from skgd import GDClassifier, GDRegressor

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.dask


@pytest.mark.parametrize(
    ("loss", "penalty"),
    [("squared_error", "l1"), ("squared_error", None), ("huber", "elasticnet")],
)
def test_dask_fit_on_cluster_matches_numpy(client, loss, penalty):
    X, y = make_problem(0, 400, 6)
    s = np.linspace(0.5, 2.0, 400)
    # Squared loss runs on the Gram matrix (one reduction); other losses make one
    # pass (one compute) per iteration, and this test runs 8 iterations of them:
    # the iterates must be those of the numpy fit, iteration for iteration.
    kw = {"loss": loss, "penalty": penalty, "alpha": 0.05, "tol": 1e-10}
    if loss != "squared_error":
        kw.update(tol=None, max_iter=8, solver="gd")
    ref = GDRegressor(**kw).fit(X, y, sample_weight=s)
    Xd = da.from_array(X, chunks=(100, 6))
    yd = da.from_array(y, chunks=100)
    est = GDRegressor(**kw).fit(Xd, yd, sample_weight=s)
    assert isinstance(est.coef_, np.ndarray)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)
    assert est.n_iter_ == ref.n_iter_
    pred = est.predict(Xd)
    assert isinstance(pred, da.Array)  # lazy
    np.testing.assert_allclose(pred.compute(), ref.predict(X), rtol=1e-9)
    # Fitted attributes are plain numpy: the model pickles and ships anywhere.
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict(X), ref.predict(X), rtol=1e-9)


def test_dask_never_gathers_x_on_the_client(client, monkeypatch):
    # X is generated lazily on the workers; every result computed back on the client
    # must be coefficient-sized or a scalar, never sample-sized.
    n, p = 40_000, 5
    Xd = da.random.RandomState(0).normal(size=(n, p), chunks=(5_000, p))
    yd = Xd @ np.arange(1.0, p + 1) + 1.0
    sizes = []
    original = da.Array.compute

    def recording_compute(self, **kwargs):
        out = original(self, **kwargs)
        sizes.append(np.size(out))
        return out

    monkeypatch.setattr(da.Array, "compute", recording_compute)
    monkeypatch.setattr(
        da.Array,
        "__array__",
        lambda self, *a, **k: pytest.fail("X was converted to numpy on the client"),
    )
    est = GDRegressor(penalty="l2", alpha=1e-3, tol=1e-8).fit(Xd, yd)
    assert sizes
    assert max(sizes) <= p * p  # coefficient-sized: a p x p Gram matrix at most
    np.testing.assert_allclose(est.coef_, np.arange(1.0, p + 1), rtol=1e-2)


def test_dask_bad_input_is_a_clear_error(client):
    X = da.from_array(np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]]), chunks=2)
    with pytest.raises(ValueError, match="NaN"):
        GDRegressor().fit(X, np.ones(3))
    X = da.ones((3, 2), chunks=2)
    with pytest.raises(ValueError, match="inconsistent"):
        GDRegressor().fit(X, np.ones(4))
    with pytest.raises(ValueError, match="(?i)negative"):
        GDRegressor().fit(X, np.ones(3), sample_weight=np.array([1.0, -1.0, 1.0]))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_dask_stochastic_solvers_stream_the_chunks(client, solver):
    X, y = make_problem(1, 1200, 5, offset=False)
    Xd, yd = da.from_array(X, chunks=(300, 5)), da.from_array(y, chunks=300)
    kw = {"solver": solver, "shuffle": False, "tol": None, "max_iter": 3}
    kw["learning_rate"] = "constant"  # (a stream's "adaptive" is not a fit's)
    est = GDRegressor(**kw).fit(Xd, yd)
    # The same passes, chunk by chunk, through partial_fit on numpy blocks.
    ref = GDRegressor(**kw)
    for _ in range(3):
        for start in range(0, 1200, 300):
            ref.partial_fit(X[start : start + 300], y[start : start + 300])
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12)
    assert est.n_iter_ == 3
    assert est.t_ == ref.t_
    opt = GDRegressor(tol=1e-10).fit(X, y)
    shuffled = GDRegressor(solver=solver, random_state=0).fit(Xd, yd)
    assert shuffled.score(X, y) >= opt.score(X, y) - 0.01


def test_dask_adaptive_stream_reduces_its_step_as_numpy_does(client):
    # With four batches per chunk (a chunk's pass makes at least 4 updates), in
    # order and without intercept (so the in-memory fit's implicit centering
    # plays no part), a numpy fit makes the same updates as the Dask stream's
    # chunk passes; the same stopping rule must then divide the adaptive step at
    # the same epochs (the stream used to keep it, and stop).
    X, y = make_problem(3, 1200, 5, offset=False)
    kw = {"solver": "sgd", "learning_rate": "adaptive", "eta0": 0.01, "tol": 1e-3}
    kw.update(shuffle=False, fit_intercept=False, batch_size=75, max_iter=200)
    ref = GDRegressor(**kw).fit(X, y)
    Xd, yd = da.from_array(X, chunks=(300, 5)), da.from_array(y, chunks=300)
    est = GDRegressor(**kw).fit(Xd, yd)

    def reductions(fitted):
        scale = fitted._minibatch_state["states"][0].eta_scale
        return round(-np.log(scale) / np.log(5.0))

    assert reductions(ref) == reductions(est) == 6
    assert ref.n_iter_ == est.n_iter_ == 40
    assert est.t_ == ref.t_ == 1 + 40 * 16
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12)
    np.testing.assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=1e-12)


def test_dask_ml_incremental_wraps_the_stochastic_solver(client):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = make_problem(2, 1200, 5, offset=False)
    Xd, yd = da.from_array(X, chunks=(300, 5)), da.from_array(y, chunks=300)
    inc = wrappers.Incremental(
        GDRegressor(solver="sgd", random_state=0), shuffle_blocks=False
    )
    inc.fit(Xd, yd)
    ref = GDRegressor(solver="sgd", random_state=0)
    for start in range(0, 1200, 300):
        ref.partial_fit(X[start : start + 300], y[start : start + 300])
    np.testing.assert_allclose(inc.estimator_.coef_, ref.coef_, rtol=1e-12)
    pred = inc.predict(Xd)
    np.testing.assert_allclose(np.asarray(pred), ref.predict(X), rtol=1e-12)


def test_dask_fit_survives_a_killed_worker(monkeypatch):
    # A worker process dies in the middle of a fit (at the second X.T @ r pass,
    # while it holds persisted chunks of X): Dask recomputes the lost chunks from
    # the graph and the fit ends where an undisturbed one does, since skgd keeps
    # no state on the workers.
    import os

    from skgd._backend._dask import DaskBackend  # private seam: kill a worker

    X, y = make_problem(0, 2000, 6)
    Xd = da.from_array(X, chunks=(500, 6))
    yd = da.from_array(y, chunks=500)
    # huber: a few reductions per iteration, so there is a fit to interrupt.
    kw = {
        "loss": "huber",
        "penalty": "l2",
        "alpha": 0.05,
        "tol": None,
        "max_iter": 4,
        "solver": "gd",
    }
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ref = GDRegressor(**kw).fit(Xd, yd)
        # Each iteration's pass over X (X.T @ r with everything else it needs) is
        # one reduce_rows.
        original, calls, killed = DaskBackend.reduce_rows, [], []

        def reduce_rows(self, fn, X, *vectors):
            calls.append(1)
            if len(calls) == 2:
                held = client.has_what()
                addr = max(held, key=lambda a: len(held[a]))
                assert held[addr], "the worker to kill holds no data"
                client.run(os._exit, 1, workers=[addr], on_error="ignore")
                killed.append(addr)
            return original(self, fn, X, *vectors)

        monkeypatch.setattr(DaskBackend, "reduce_rows", reduce_rows)
        est = GDRegressor(**kw).fit(Xd, yd)
        assert killed
        assert killed[0] not in client.scheduler_info()["workers"]
    # Two fits on a cluster agree to rounding, not bit for bit (observed: 1 ulp),
    # killed worker or not.
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12, atol=1e-15)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-12)
    assert est.n_iter_ == ref.n_iter_ == 4
    np.testing.assert_allclose(
        est.coef_, GDRegressor(**kw).fit(X, y).coef_, rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize(
    ("loss", "solver"), [("log_loss", "gd"), ("hinge", "gd"), ("log_loss", "sgd")]
)
def test_dask_classifier_matches_numpy(client, loss, solver):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    # gd: 8 iterations compared iterate for iterate (several small reductions per
    # iteration on Dask for these losses); sgd streams the chunks in order.
    kw = {"loss": loss, "solver": solver, "alpha": 1e-2, "random_state": 0}
    kw.update(tol=None, max_iter=8) if solver == "gd" else kw.update(shuffle=False)
    Xd = da.from_array(X, chunks=(50, 4))
    yd = da.from_array(labels, chunks=50)
    est = GDClassifier(**kw).fit(Xd, yd)
    assert isinstance(est.coef_, np.ndarray)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    pred = est.predict(Xd)
    assert isinstance(pred, da.Array)  # lazy
    if solver == "gd":
        ref = GDClassifier(**kw).fit(X, labels)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(pred.compute(), ref.predict(X))
        if loss == "log_loss":
            proba = est.predict_proba(Xd)
            np.testing.assert_allclose(proba.compute(), ref.predict_proba(X), rtol=1e-9)
    else:
        assert est.score(X, labels) > 0.8


@pytest.mark.parametrize(
    ("loss", "penalty"),
    [
        ("huber", "l1"),
        ("epsilon_insensitive", "l2"),
        ("squared_epsilon_insensitive", "elasticnet"),
    ],
)
def test_dask_converged_fit_of_non_quadratic_losses_matches_numpy(
    client, loss, penalty
):
    # Converged fits (certified gap below tol), not a fixed number of iterations:
    # the stopping decisions on the cluster are those of numpy.
    X, y = make_problem(3, 300, 5)
    kw = {"loss": loss, "penalty": penalty, "alpha": 0.02, "tol": 1e-10, "solver": "gd"}
    if loss == "epsilon_insensitive":
        kw["tol"] = 1e-4  # Moreau stages converge slowly: about 100 iterations
    ref = GDRegressor(**kw).fit(X, y)
    Xd = da.from_array(X, chunks=(75, 5))
    yd = da.from_array(y, chunks=75)
    est = GDRegressor(**kw).fit(Xd, yd)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-12)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)
    assert est.n_iter_ == ref.n_iter_


def _count_client_calls(monkeypatch):
    """Return a dict counting the client's blocking computes and persists.

    ``Client.get`` is every blocking compute, ``Client.persist`` every graph
    submission of persist; the counts grow as the fits run.
    """
    calls = {"get": 0, "persist": 0}
    for name in calls:
        original = getattr(distributed.Client, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(distributed.Client, name, counted)
    return calls


@pytest.mark.parametrize(
    "loss",
    [
        "huber",
        "squared_epsilon_insensitive",
        "log_loss",
        "modified_huber",
        "multinomial",
    ],
)
def test_dask_non_quadratic_loss_costs_one_compute_per_iteration(
    client, monkeypatch, loss
):
    # Every full pass is one reduction, one synchronisation. Count the
    # blocking computes (Client.get) and the graph submissions of persist per
    # iteration as the difference between two fits that share their setup.
    calls = _count_client_calls(monkeypatch)
    X, y = make_problem(4, 2000, 8)
    Xd = da.from_array(X, chunks=(250, 8)).persist()
    yd = da.from_array(y, chunks=250).persist()
    kw = {"loss": loss, "penalty": "l2", "alpha": 0.01, "tol": None, "solver": "gd"}
    Estimator = GDRegressor
    if loss in ("log_loss", "modified_huber"):
        # Binary classes (their dual point is balanced in the same pass).
        Estimator, yd = GDClassifier, (yd > np.quantile(y, 0.3)).persist()
    elif loss == "multinomial":
        # Three classes: K outputs, the balanced rows of the multinomial dual.
        classes = np.digitize(y, np.quantile(y, [0.3, 0.6]))
        Estimator, yd = GDClassifier, da.from_array(classes, chunks=250).persist()
        kw["loss"] = "log_loss"
    counts = []
    for max_iter in (5, 15):
        calls.update(get=0, persist=0)
        est = Estimator(max_iter=max_iter, **kw).fit(Xd, yd)
        assert est.n_iter_ == max_iter
        counts.append(dict(calls))
    per_iter = {k: (counts[1][k] - counts[0][k]) / 10 for k in calls}
    # One compute; the predictions X @ w and their extrapolation are persisted (two
    # submissions that do not wait). Backtracking would add a pass: it does not
    # happen once the curvature constant has settled.
    assert per_iter == {"get": 1.0, "persist": 2.0}


@pytest.mark.parametrize(
    ("loss", "penalty", "tol"),
    [
        ("log_loss", "l1", 1e-10),
        ("modified_huber", "elasticnet", 1e-10),
        ("hinge", "l2", 1e-3),
    ],
)
def test_dask_converged_binary_classifier_matches_numpy(client, loss, penalty, tol):
    # The balanced dual point is made from the same pass as the gradient: the
    # certified stopping decisions on the cluster are numpy's.
    X, y = make_problem(5, 300, 5)
    labels = np.where(y > np.quantile(y, 0.35), "yes", "no")
    kw = {"loss": loss, "penalty": penalty, "alpha": 0.01, "tol": tol, "solver": "gd"}
    ref = GDClassifier(**kw).fit(X, labels)
    assert ref.n_iter_ < ref.max_iter
    Xd = da.from_array(X, chunks=(75, 5))
    est = GDClassifier(**kw).fit(Xd, da.from_array(labels, chunks=75))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7)
    assert est.n_iter_ == ref.n_iter_


def test_dask_x_larger_than_the_workers_memory_is_not_persisted(client, monkeypatch):
    # X is persisted only when it takes at most half of the workers' memory; a
    # larger X stays lazy (each pass recomputes its chunks from their source), and
    # the fit still reaches numpy's solution.
    from skgd._backend import _dask as dask_backend  # private seam: memory budget

    X, y = make_problem(6, 400, 5)
    Xd = da.from_array(X, chunks=(100, 5)) * 1.0  # a lazy expression on X
    budget = dask_backend._memory_budget()
    assert budget >= 2 * X.nbytes  # the cluster's workers have memory limits
    kept = dask_backend.DaskBackend.prepare(Xd)
    assert len(kept.__dask_graph__()) == kept.npartitions  # persisted: chunks only
    monkeypatch.setattr(dask_backend, "_memory_budget", lambda: X.nbytes)
    lazy = dask_backend.DaskBackend.prepare(Xd)
    assert len(lazy.__dask_graph__()) > lazy.npartitions  # still the expression
    kw = {"loss": "huber", "penalty": "l2", "alpha": 0.01, "tol": 1e-8, "solver": "gd"}
    est = GDRegressor(**kw).fit(Xd, da.from_array(y, chunks=100))
    ref = GDRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-12)


def test_dask_multinomial_with_an_empty_row_chunk_matches_numpy():
    # A row chunk of zero rows (from a filter, say) passes through every block
    # reduction, the class-axis ones of the multinomial loss included.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4))
    y = np.digitize(X @ rng.normal(size=4), [-0.5, 0.5])
    chunks = (30, 0, 30, 30)
    kw = {"alpha": 0.01, "tol": 1e-10}
    with dask.config.set(scheduler="synchronous"):
        est = GDClassifier(**kw).fit(
            da.from_array(X, chunks=(chunks, 4)), da.from_array(y, chunks=(chunks,))
        )
    ref = GDClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize(
    ("loss", "penalty"),
    [("log_loss", "l2"), ("log_loss", None), ("modified_huber", "l1")],
)
def test_dask_newton_step_is_one_compute(client, monkeypatch, loss, penalty):
    # A Newton step is one weighted-Gram reduction: the gradient, the curvature
    # sums and the Gram matrix at the line search's full step come back with the
    # objective there, in one compute, and make the next step's model (the
    # decrement of a fit without a penalty is computed from it, on the client).
    # Counted as in the test above, between fits of 2 and 4 steps.
    calls = _count_client_calls(monkeypatch)
    X, y = make_problem(4, 2000, 8)
    Xd = da.from_array(X, chunks=(250, 8)).persist()
    y = (y > np.quantile(y, 0.3)).astype(int)
    yd = da.from_array(y, chunks=250).persist()
    kw = {"loss": loss, "penalty": penalty, "alpha": 0.01, "tol": None}
    counts, fits = [], []
    for max_iter in (2, 4):
        calls.update(get=0, persist=0)
        est = GDClassifier(solver="newton", max_iter=max_iter, **kw).fit(Xd, yd)
        assert est.n_iter_ == max_iter
        counts.append(dict(calls))
        fits.append(GDClassifier(solver="newton", max_iter=max_iter, **kw).fit(X, y))
        np.testing.assert_allclose(est.coef_, fits[-1].coef_, rtol=1e-8, atol=1e-10)
    per_step = {k: (counts[1][k] - counts[0][k]) / 2 for k in calls}
    # One compute; the step's predictions X @ dw are persisted (no wait).
    assert per_step == {"get": 1.0, "persist": 1.0}
