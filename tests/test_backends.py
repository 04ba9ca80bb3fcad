# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest
import scipy.sparse as sp

# This file tests a private seam: the backends, which the objective calls.
from skgd._backend import DenseBackend, SparseBackend, _dense, _sparse, get_backend


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
