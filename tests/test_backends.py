# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest
import scipy.sparse as sp

# This file tests a private seam: the backends, which the objective calls.
from skgd._backend import (
    Backend,
    DaskBackend,
    DenseBackend,
    SparseBackend,
    _dense,
    _sparse,
    get_backend,
)
from skgd._backend._dense import _full_rank_quadratic, psd_quadratic


def test_backends_selection():
    assert isinstance(get_backend(np.ones((2, 2))), DenseBackend)
    assert isinstance(get_backend(sp.csr_matrix(np.ones((2, 2)))), SparseBackend)
    with pytest.raises(ValueError, match="CSR or CSC"):
        get_backend(sp.coo_matrix(np.ones((2, 2))))


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
def test_backends_products_and_blockwise_statistics(fmt, monkeypatch):
    # Tiny blocks force many iterations of the blockwise loops.
    monkeypatch.setattr(_dense, "_BLOCK_ELEMENTS", 7)
    monkeypatch.setattr(_sparse, "_BLOCK_NNZ", 5)
    rng = np.random.default_rng(0)
    A = sp.random(40, 6, density=0.4, format="csr", random_state=0)
    X = A.toarray() if fmt == "dense" else A.asformat(fmt)
    dense = A.toarray()
    be = get_backend(X)
    w, r = rng.normal(size=6), rng.normal(size=40)
    u = rng.uniform(size=40)
    u /= u.sum()
    m = u @ dense
    np.testing.assert_allclose(be.matvec(X, w), dense @ w, rtol=1e-12)
    np.testing.assert_allclose(be.rmatvec(X, r), dense.T @ r, rtol=1e-12)
    np.testing.assert_allclose(be.weighted_mean(X, u), m, rtol=1e-12)
    np.testing.assert_allclose(
        be.weighted_centered_sq(X, u, m), u @ (dense - m) ** 2, rtol=1e-12
    )
    rows = be.take_rows(X, np.array([3, 1]))
    np.testing.assert_allclose(
        rows.toarray() if sp.issparse(rows) else rows, dense[[3, 1]]
    )


@pytest.mark.parametrize("fmt", ["csr", "dense"])
def test_backends_in_memory_passes(fmt):
    # What the dense and the sparse backends share: X is one row block and the
    # vectors are concrete, so nothing is persisted and floats come at once.
    rng = np.random.default_rng(1)
    dense = rng.normal(size=(8, 3))
    X = sp.csr_matrix(dense) if fmt == "csr" else dense
    be = get_backend(X)
    r, R = rng.normal(size=8), rng.normal(size=(8, 2))
    grad, total = be.rmatvec_sum(X, r)
    np.testing.assert_allclose(grad, dense.T @ r, rtol=1e-12)
    assert isinstance(total, float)
    assert total == pytest.approx(r.sum(), rel=1e-12)
    grads, totals = be.rmatvec_sum(X, R)
    np.testing.assert_allclose(grads, dense.T @ R, rtol=1e-12)
    np.testing.assert_allclose(totals, R.sum(axis=0), rtol=1e-12)
    kept = be.persist(r, None)
    assert kept[0] is r
    assert kept[1] is None
    got = be.reduce_rows(lambda b, Xb, v: (b, Xb, v), X, r)
    assert all(a is b for a, b in zip(got, (be, X, r), strict=True))
    assert be.to_float(np.float64(1.5)) == 1.5
    assert be.to_floats(np.float64(1.5), np.asarray(2.0)) == [1.5, 2.0]


def test_backends_implement_the_protocol():
    methods = [
        name
        for name, value in vars(Backend).items()
        if callable(value) and not name.startswith("_")
    ]
    assert "reduce_rows" in methods
    for cls in (DenseBackend, SparseBackend, DaskBackend):
        missing = [name for name in methods if not callable(getattr(cls, name, None))]
        assert not missing, (cls.__name__, missing)


@pytest.mark.parametrize("n", [1, 30, 64, 65])
def test_psd_quadratic_equals_the_pseudo_inverse_form(n):
    # Newton's pure-L1 model reads q.G^+ q: by a pivoted Cholesky up to 64 rows
    # (on the calling thread), by the pseudo-inverse above.
    rng = np.random.default_rng(n)
    M = rng.standard_normal((2 * n + 3, n))
    A = M.T @ M
    b = rng.standard_normal(n)
    expected = b @ np.linalg.pinv(A, hermitian=True) @ b
    assert psd_quadratic(A, b) == pytest.approx(expected, rel=1e-10)
    # A column without curvature: its diagonal entry is rounding and b's entry
    # noise, which the pseudo-inverse drops and a solve would amplify.
    if n > 1:
        M[:, 0] = 0.0
        A = M.T @ M
        A[0, 0] = 1e-33
        b = M.T @ rng.standard_normal(M.shape[0])
        b[0] = 1e-17
        expected = b @ np.linalg.pinv(A, hermitian=True) @ b
        assert psd_quadratic(A, b) == pytest.approx(expected, rel=1e-8)
        assert psd_quadratic(A.astype(np.float32), b.astype(np.float32)) == (
            pytest.approx(expected, rel=1e-3)
        )


def test_psd_quadratic_pivots_where_columns_repeat_each_other():
    # The unpivoted Cholesky that serves a full-rank matrix succeeds on one whose
    # columns nearly repeat each other too (a pivot of rounding size), where a
    # solve's value is far from the pseudo-inverse's: the pivoted one decides.
    rng = np.random.default_rng(3)
    M = rng.standard_normal((40, 10))
    M[:, 3] = M[:, 1] * (1.0 + 1e-13)
    A = M.T @ M
    b = M.T @ rng.standard_normal(40)
    expected = b @ np.linalg.pinv(A, hermitian=True) @ b
    assert abs(b @ np.linalg.solve(A, b) - expected) > 0.1 * expected
    assert _full_rank_quadratic(A, b) is None
    assert psd_quadratic(A, b) == pytest.approx(expected, rel=1e-8)
    # Full rank: the unpivoted factorization's value, b.T A^-1 b.
    M[:, 3] = rng.standard_normal(40)
    A = M.T @ M
    assert _full_rank_quadratic(A, b) == pytest.approx(
        b @ np.linalg.solve(A, b), rel=1e-12
    )


def test_gram_with_target_is_an_array_of_its_own():
    # G comes out of the same pass as q and yy (one more column) but is returned
    # as a C-contiguous array, not a strided view: numpy's take of its rows would
    # copy the whole view first, at every working set of a path.
    rng = np.random.default_rng(7)
    X = rng.standard_normal((300, 40)) + 3.0
    u = np.full(300, 1 / 300)
    target = rng.standard_normal(300)
    mean = X.mean(axis=0)
    G, q, yy = DenseBackend(X).weighted_gram_target(X, u, mean, target, True)
    assert G.flags.c_contiguous
    assert G.base is None
    C = X - mean
    np.testing.assert_allclose(G, C.T @ C / 300, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(q, C.T @ target / 300, rtol=1e-12, atol=1e-12)
    assert yy == pytest.approx(float(target @ target) / 300, rel=1e-12)


def test_numpy_namespace_fast_paths_are_numpy_functions():
    # The namespace's clip and reductions call numpy's ufuncs directly on a
    # numpy array: the same values (bit for bit), types and errors as numpy's.
    from skgd._backend._namespace import array_namespace

    rng = np.random.default_rng(0)
    v = rng.standard_normal(101)
    M = rng.standard_normal((7, 3))
    xp = array_namespace(v)
    for got, want in [
        (xp.clip(v, -0.5, 0.5), np.clip(v, -0.5, 0.5)),
        (xp.clip(np.float32(2.0), 0.0, 1.0), np.float32(1.0)),
        (xp.clip(v, 0.0, None), np.maximum(v, 0.0)),
        (xp.sum(v), np.sum(v)),
        (xp.sum(M, axis=0), np.sum(M, axis=0)),
        (xp.sum(M, axis=1, keepdims=True), np.sum(M, axis=1, keepdims=True)),
        (xp.max(v), np.max(v)),
        (xp.any(v > 2.0), np.any(v > 2.0)),
        (xp.all(v > -5.0), np.all(v > -5.0)),
        # Integers keep array-api-compat's own reduction.
        (xp.sum(np.arange(5, dtype=np.int32)), 10),
    ]:
        assert type(got) is type(want) or np.ndim(got) == np.ndim(want)
        np.testing.assert_array_equal(got, want, strict=True)
    assert np.isnan(xp.clip(np.array([np.nan]), -1.0, 1.0)[0])
    with pytest.raises(ValueError, match="zero-size array"):
        xp.max(np.array([]))
