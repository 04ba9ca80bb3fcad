# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The two halves of a Gram matrix, on a helper thread where a core is idle.

Inside a serial fit (``serial_limit``) ``halves`` runs its second callable on
a helper thread when ``idle_core`` says a core is free (the process's own
runnable threads left out); the Gram matrices of the dense backend then have
the same bits as on one thread, the helper is gone when it returns, and an
error of either half reaches the caller.
"""

import builtins
import contextlib
import io
import os
import threading

import numpy as np
import pytest

from skgd import GDClassifier
from skgd._backend import _split
from skgd._backend._dense import _SPLIT_GRAM, DenseBackend, _numpy_gram
from skgd._backend._split import halves, idle_core, serial_limit


@pytest.fixture
def idle(monkeypatch):
    """Make every core look idle: the helper runs whenever it may."""
    monkeypatch.setattr(_split, "idle_core", lambda: True)


@pytest.fixture
def busy(monkeypatch):
    """Make every core look busy: no helper."""
    monkeypatch.setattr(_split, "idle_core", lambda: False)


def _serial():
    return serial_limit(contextlib.nullcontext())


def _where():
    return threading.current_thread().name


def test_idle_core_is_a_bool():
    assert idle_core() in (True, False)


@pytest.mark.parametrize(
    ("running", "others", "idle"),
    [(1, 0, True), (2, 0, False), (3, 2, True), (3, 1, False)],
)
def test_idle_core_leaves_out_the_process_own_threads(
    running, others, idle, monkeypatch
):
    # Two CPUs: the caller's own runnable threads (a spinning BLAS thread)
    # do not make them busy, other tasks do.
    monkeypatch.setattr(_split, "_cpus", lambda: 2)
    monkeypatch.setattr(_split, "_others_running", lambda: others)
    line = f"0.50 0.40 0.30 {running}/120 4242\n".encode()
    monkeypatch.setattr(_split.os, "read", lambda fd, n: line)
    assert idle_core() is idle


def test_others_running_counts_a_running_thread():
    stop = threading.Event()
    spinner = threading.Thread(target=lambda: [0 for _ in iter(stop.is_set, True)])
    spinner.start()
    try:
        counts = [_split._others_running() for _ in range(50)]
    finally:
        stop.set()
        spinner.join()
    assert max(counts) >= 1


def test_halves_run_on_the_caller_outside_a_serial_fit(idle):
    assert halves(_where, _where) == ("MainThread", "MainThread")


def test_halves_run_on_the_caller_when_busy(busy):
    with _serial():
        assert halves(_where, _where) == ("MainThread", "MainThread")


def test_second_half_on_a_helper_when_idle(idle):
    started = threading.Event()

    def first():
        started.wait(5.0)  # (the helper has claimed the second half by then)
        return _where()

    def second():
        started.set()
        return _where()

    before = set(threading.enumerate())
    with _serial():
        a, b = halves(first, second)
    assert a == "MainThread"
    assert b != "MainThread"
    assert set(threading.enumerate()) == before  # (the helper is gone)


def test_caller_takes_a_second_half_the_helper_has_not_started(idle, monkeypatch):
    # A helper that has not claimed the half when the caller is done: the
    # caller runs it, and the helper, once it starts, leaves it.
    gate = threading.Event()
    run = threading.Thread.run

    def late_run(self):
        gate.wait(5.0)
        run(self)

    monkeypatch.setattr(threading.Thread, "run", late_run)
    calls = []

    def second():
        calls.append(_where())
        return "b"

    def first():
        return "a"

    with _serial():
        timer = threading.Timer(0.05, gate.set)
        timer.start()
        assert halves(first, second) == ("a", "b")
        timer.join()
    assert calls == ["MainThread"]


@pytest.mark.parametrize("failing", ["first", "second"])
def test_an_error_of_either_half_reaches_the_caller(idle, failing):
    def fail():
        raise FloatingPointError(failing)

    first = fail if failing == "first" else _where
    second = fail if failing == "second" else _where
    before = set(threading.enumerate())
    with _serial(), pytest.raises(FloatingPointError, match=failing):
        halves(first, second)
    assert set(threading.enumerate()) == before


def _data(n, p, offset=0.0):
    rng = np.random.default_rng(n + p)
    X = rng.standard_normal((n, p)) + offset
    g, h = rng.standard_normal(n), rng.uniform(0.0, 0.25, n)
    return X, g, h


@pytest.mark.parametrize("mean", ["x_mean", None])
def test_gram_halves_have_the_same_bits_on_one_thread_or_two(mean, monkeypatch):
    X, g, h = _data(5_000, 100, offset=2.0)
    assert X.shape[0] * X.shape[1] ** 2 >= _SPLIT_GRAM
    m = X.mean(axis=0) if mean else None
    step = 655
    results = {}
    for where in ("busy", "idle"):
        monkeypatch.setattr(_split, "idle_core", lambda w=where: w == "idle")
        with _serial():
            results[where] = _numpy_gram(X, h, m, False, None, step, g)
    for one, two in zip(results["busy"], results["idle"], strict=True):
        np.testing.assert_array_equal(one, two)
    # And they are the products they stand for.
    C = X - (m if mean else 0.0)
    G, product, sums = results["idle"]
    np.testing.assert_allclose(G, (C * h[:, None]).T @ C, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(product, X.T @ g, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sums, C.T @ h, rtol=1e-12, atol=1e-9)


def test_weighted_gram_of_halves_equals_the_direct_product(idle):
    X, _, h = _data(4_000, 100, offset=-5.0)
    assert X.shape[0] * X.shape[1] ** 2 >= _SPLIT_GRAM
    m = X.mean(axis=0)
    target = np.random.default_rng(0).standard_normal(4_000)
    with _serial():
        G, q, yy = DenseBackend(X).weighted_gram_target(X, h, m, target)
    C = X - m
    np.testing.assert_allclose(G, (C * h[:, None]).T @ C, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(q, C.T @ (h * target), rtol=1e-12, atol=1e-9)
    assert yy == pytest.approx(float(h @ target**2), rel=1e-12)


def test_newton_fit_has_the_same_bits_with_a_helper(monkeypatch):
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this process: no serial fit")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6_000, 100))
    X[:, 1:] += 0.7 * X[:, :-1]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (X @ rng.standard_normal(100) / 10 + rng.logistic(size=6_000) > 0).astype(int)
    fits, helpers = {}, []
    start = threading.Thread.start

    def counted(self):
        helpers.append(self.name)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", counted)
    for where in ("busy", "idle"):
        monkeypatch.setattr(_split, "idle_core", lambda w=where: w == "idle")
        fits[where] = GDClassifier(alpha=1e-4, solver="newton", tol=1e-10).fit(X, y)
    assert helpers  # (the idle fit's Gram matrices had a helper)
    np.testing.assert_array_equal(fits["busy"].coef_, fits["idle"].coef_)
    np.testing.assert_array_equal(fits["busy"].intercept_, fits["idle"].intercept_)
    assert fits["busy"].n_iter_ == fits["idle"].n_iter_


@pytest.fixture
def runnable(monkeypatch):
    """Set the tasks /proc/loadavg says are runnable; count its reads.

    None of them is another thread of this process (a BLAS thread left
    spinning by an earlier test would otherwise be left out of the count).
    """
    reads = []
    monkeypatch.setattr(_split, "_others_running", lambda: 0)

    def set_to(count):
        def read():
            reads.append(count)
            return count

        monkeypatch.setattr(_split, "_runnable", read)
        return reads

    monkeypatch.setattr(_split, "_quota", lambda: None)
    return set_to


def test_one_usable_cpu_never_has_a_helper(monkeypatch, runnable):
    # (A container or taskset: one CPU of the machine's many.)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    reads = runnable(0)
    assert not idle_core()
    assert reads == []  # (no read of the load: nothing could be idle)
    with _serial():
        assert halves(_where, _where) == ("MainThread", "MainThread")


@pytest.mark.parametrize(("running", "idle"), [(1, True), (2, False), (40, False)])
def test_the_cpus_are_the_affinity_not_the_machine(
    monkeypatch, runnable, running, idle
):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    runnable(running)
    assert idle_core() is idle


def test_a_cpu_quota_of_one_never_has_a_helper(monkeypatch, runnable):
    monkeypatch.setattr(
        os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False
    )
    runnable(0)
    monkeypatch.setattr(_split, "_quota", lambda: 1)
    assert not idle_core()
    monkeypatch.setattr(_split, "_quota", lambda: 2)
    assert idle_core()


@pytest.mark.parametrize(
    ("text", "quota"),
    [
        ("max 100000\n", None),
        ("150000 100000\n", 1),
        ("400000 100000\n", 4),
        ("", None),
    ],
)
def test_quota_reads_cgroup_cpu_max(monkeypatch, text, quota):
    def fake_open(path, *args, **kwargs):
        assert path == "/sys/fs/cgroup/cpu.max"
        return io.StringIO(text)

    with monkeypatch.context() as m:
        m.setattr(builtins, "open", fake_open)
        assert _split._quota.__wrapped__() == quota


def test_without_affinity_or_proc_no_helper(monkeypatch, runnable):
    # (Not Linux: no sched_getaffinity, no /proc/loadavg.)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert _split._cpus() == 4
    runnable(None)
    assert not idle_core()
    runnable(1)
    assert idle_core()


def test_runnable_is_none_where_proc_loadavg_cannot_be_read(monkeypatch):
    def missing(*args):
        raise FileNotFoundError("/proc/loadavg")

    with monkeypatch.context() as m:
        m.setattr(os, "open", missing)
        assert _split._runnable() is None
    assert _split._runnable() is None or _split._runnable() >= 1
