# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Backend for Dask arrays: every pass over X is Dask work on the user's scheduler.

X stays chunked by rows on the workers (persisted once when it fits in their memory,
recomputed from its source at each pass when it does not); sample-sized vectors (the
predictions, residuals, weights) are Dask arrays with X's row chunks, persisted when
made, and coefficient-sized vectors are plain numpy on the client. The only values
ever brought to the client are coefficient-sized vectors and scalars: this module
holds every ``compute`` of skgd. dask is imported lazily, so skgd imports without it.
"""

import math
import sys

import numpy as np
from array_api_compat import is_dask_array
from array_api_compat import numpy as np_compat


def _dask_array():
    """Import dask.array, or say which extra provides it."""
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("Dask input needs dask: pip install 'skgd[dask]'.") from exc
    return da


# Partial results combined per task when reducing row chunks (a tree for many chunks).
_FAN_IN = 16


def _reduce_block(X, *vectors, fn, present):
    """Run ``fn`` on one row block (on a worker); wrap its result for Dask."""
    from skgd._backend._dense import DenseBackend

    vectors = iter(vectors)
    blocks = [next(vectors) if p else None for p in present]
    out = np.empty((1,), dtype=object)
    out[0] = fn(DenseBackend(X), X, *blocks)
    return out


def _combine_blocks(parts):
    """Add the sums and take the maxima of several blocks' ``(sums, maxima)``."""
    sums, maxima = parts[0][0]
    for part in parts[1:]:
        more_sums, more_maxima = part[0]
        sums = [a + b for a, b in zip(sums, more_sums, strict=True)]
        maxima = [np.maximum(a, b) for a, b in zip(maxima, more_maxima, strict=True)]
    out = np.empty((1,), dtype=object)
    out[0] = (tuple(sums), tuple(maxima))
    return out


def _memory_budget():
    """Return the bytes the workers can hold, or inf when it is not known.

    With a ``dask.distributed`` client, the sum of its workers' memory limits;
    otherwise (local schedulers) the memory available on this machine.
    """
    client = None
    # Only a client the user made: get_client() would start one from a configured
    # scheduler address.
    if "distributed" in sys.modules:
        from distributed import default_client

        try:
            client = default_client()
        except ValueError:  # no client
            client = None
    if client is not None:
        try:
            workers = client.scheduler_info(n_workers=-1)["workers"]
        except TypeError:  # distributed before the n_workers argument
            workers = client.scheduler_info()["workers"]
        limits = [info.get("memory_limit") or 0 for info in workers.values()]
        if limits and all(limits):
            return float(sum(limits))
        return math.inf
    try:
        import psutil
    except ImportError:
        return math.inf
    return float(psutil.virtual_memory().available)


def is_dask(X):
    """Return True for a dask array (without importing dask)."""
    return is_dask_array(X)


class DaskBackend:
    """Dask arrays chunked by rows; coefficient vectors are numpy."""

    coef_xp = np_compat
    device = "cpu"

    def __init__(self, X):
        from array_api_compat.dask import array as dask_xp

        self.xp = dask_xp
        self.row_chunks = X.chunks[0]

    @staticmethod
    def prepare(X):
        """Return X with one column chunk, persisted, after checking it is finite.

        X is persisted only when it takes at most half of what the workers can
        hold (:func:`_memory_budget`): a larger X stays lazy, and each pass
        recomputes its chunks from their source (a file, a generator), so that
        data larger than the cluster's memory still fits, one chunk at a time per
        worker. The finiteness check is one pass, computed on the workers; only a
        boolean comes back.
        """
        da = _dask_array()
        X = X.rechunk({1: -1})
        if X.nbytes <= 0.5 * _memory_budget():
            X = X.persist()
        if not bool(da.isfinite(X).all().compute()):
            nan = bool(da.isnan(X).any().compute())  # (numpy's two messages)
            raise ValueError(
                "Input X contains NaN."
                if nan
                else f"Input X contains infinity or a value too large for {X.dtype!r}."
            )
        return X

    def samples(self, v, dtype):
        """Return a sample-sized vector as a Dask array with X's row chunks."""
        da = _dask_array()
        if is_dask_array(v):
            out = v.astype(dtype).rechunk((self.row_chunks,))
        else:
            out = da.from_array(np.asarray(v, dtype=dtype), chunks=(self.row_chunks,))
        return out.persist()

    def full(self, n_samples, value, dtype):
        """Return a sample-sized constant vector with X's row chunks."""
        da = _dask_array()
        # Persisted, or every pass that reads it would rebuild it chunk by chunk.
        out = da.full(n_samples, value, dtype=dtype, chunks=(self.row_chunks,))
        return out.persist()

    def matvec(self, X, w):
        """Return ``X @ w``, persisted: later reductions reuse it without a pass."""
        return (X @ np.asarray(w)).persist()

    def lazy_matvec(self, X, w):
        """Return the lazy ``X @ w``: for an expression computed with others."""
        return X @ np.asarray(w)

    def rmatvec(self, X, r):
        """Return ``X.T @ r`` as numpy: one pass, p numbers back to the client."""
        return np.asarray(_rmatvec(X, r).compute())

    def weighted_mean(self, X, u):
        """Return the weighted column means as numpy."""
        return np.asarray((u @ X).compute())

    def newton_terms(self, X, g, h, mean, *scalars):
        """Return what a Newton model needs from one reduction over the row chunks.

        ``(X.T @ g, sum(g), sum(h), C.T @ h, C.T @ diag(h) @ C)`` with ``C = X -
        mean``, and the lazy ``scalars`` (the loss at the same predictions), in
        one ``compute``: each worker forms its chunks' gradient, curvature sums
        and ``p x p`` product, and only those travel. The caller recenters the
        Gram matrix at the means under ``h`` (a rank-one correction).
        """
        import dask

        centered = X - mean
        scaled = centered * h[:, None] ** 0.5
        product, sum_g, s, a, G, *values = dask.compute(
            g @ X, g.sum(), h.sum(), h @ centered, scaled.T @ scaled, *scalars
        )
        values = [float(v) for v in values]
        return np.asarray(product), float(sum_g), float(s), np.asarray(a), G, values

    def row_terms(self, X, vectors, tails=(), small=(), weights=None, centre=None):
        """Return what an interior-point pass needs, from one ``compute``.

        ``([(X.T @ v, sum(v)) for v in vectors], tails, small, gram)``: the
        coefficient-sized ``tails`` as numpy, the lazy scalars ``small`` as
        floats and, with ``weights`` h, ``gram = (sum(h), C.T @ h, C.T @
        diag(h) @ C)`` with ``C = X - centre`` (None without). Each worker forms
        its chunks' products and ``p x p`` sums; only those travel.
        """
        import dask

        lazy = [(v @ X, v.sum()) for v in vectors]
        gram = None
        if weights is not None:
            centered = X - centre
            scaled = centered * weights[:, None] ** 0.5
            gram = (weights.sum(), weights @ centered, scaled.T @ scaled)
        sums, tails, small, gram = dask.compute(lazy, list(tails), list(small), gram)
        tails = [np.asarray(t) for t in tails]
        return sums, tails, [float(v) for v in small], gram

    def weighted_centered_sq(self, X, u, mean):
        """Return ``sum_i u_i (X_ij - mean_j)**2`` as numpy, chunk by chunk."""
        centered = X - mean
        return np.asarray((u @ (centered * centered)).compute())

    def weighted_gram(self, X, u, mean, uniform=False):
        """Return ``C.T @ diag(u) @ C`` with ``C = X - mean`` as numpy.

        One reduction over the row chunks: each worker forms its chunk's p x p
        product (centered in a temporary), and only p x p partial sums travel.
        """
        centered = (X - mean) * u[:, None] ** 0.5
        return np.asarray((centered.T @ centered).compute())

    def take_rows(self, X, idx):
        """Return the rows ``idx`` of X (still a Dask array)."""
        return X[idx]

    def take_mask(self, keep, X, *vectors):
        """Return X and the sample-sized ``vectors`` at the rows where ``keep``.

        ``keep`` is a boolean Dask array with X's row chunks: each chunk keeps its
        own rows, so the results share their row chunks, whose sizes one
        compute finds (only the counts come back).
        """
        da = _dask_array()
        lengths = da.map_blocks(
            lambda k: np.array([k.sum()]), keep, chunks=((1,) * keep.numblocks[0],)
        )
        sizes = tuple(int(n) for n in lengths.compute())
        out = []
        for v in (X, *vectors):
            mask = keep if v.ndim == 1 else keep[:, None]
            chunks = (sizes, *v.chunks[1:])
            out.append(
                da.map_blocks(_take_block, v, mask, chunks=chunks, dtype=v.dtype)
            )
        return tuple(out)

    def put_rows(self, keep, v):
        """Return the sample-sized vector with ``v`` where ``keep``, 0 elsewhere.

        The inverse of :meth:`take_mask` (``v`` has its chunks), block by block.
        """
        return _dask_array().blockwise(
            _put_block,
            "i",
            keep,
            "i",
            v,
            "i",
            dtype=v.dtype,
            align_arrays=False,
            adjust_chunks={"i": keep.chunks[0]},
        )

    def rmatvec_sum(self, X, r):
        """Return ``(X.T @ r, sum(r))`` from one compute: one pass, p + 1 numbers."""
        import dask

        if r.ndim == 2:
            product, total = dask.compute(_rmatvec(X, r), r.sum(axis=0))
            return np.asarray(product), np.asarray(total)
        product, total = dask.compute(r @ X, r.sum())
        return np.asarray(product), float(total)

    def persist(self, *vectors):
        """Return ``vectors`` persisted together (one graph, shared expressions).

        The full-batch solver persists each iteration's predictions: a later graph
        then refers to their chunks, never again to the expression that made them,
        so no key is ever submitted twice with different (fused) tasks.
        """
        import dask

        return tuple(dask.persist(*vectors))

    def reduce_rows(self, fn, X, *vectors):
        """Return ``fn``'s results over X's row chunks, reduced on the workers.

        One task per row chunk runs ``fn`` on numpy blocks; Dask fuses the
        elementwise expressions that produce the vectors (a shift, an
        extrapolation of persisted predictions) into that task, so the graph holds
        about one task per chunk plus the tree that adds the partial results, and
        a single ``compute`` brings back only the reduced, coefficient-sized
        results.
        """
        import dask

        da = _dask_array()
        present = tuple(v is not None for v in vectors)
        args = []
        for v in vectors:
            if v is not None:
                # Row chunks of X; the K columns of a 2-D vector in one chunk.
                chunks = (X.chunks[0], *((size,) for size in v.shape[1:]))
                if v.chunks != chunks:
                    v = v.rechunk(chunks)
                args += [v, "i" if v.ndim == 1 else "ik"]
        parts = da.blockwise(
            _reduce_block,
            "i",
            X,
            "ij",
            *args,
            fn=fn,
            present=present,
            adjust_chunks={"i": 1},
            dtype=object,
            meta=np.empty((0,), dtype=object),
            concatenate=True,
        ).to_delayed()
        parts = list(parts)
        while len(parts) > 1:
            parts = [
                dask.delayed(_combine_blocks)(parts[start : start + _FAN_IN])
                for start in range(0, len(parts), _FAN_IN)
            ]
        (result,) = dask.compute(parts[0])
        sums, maxima = result[0]
        return tuple(sums), tuple(maxima)

    def to_float(self, x):
        """Return a Python float, computing a lazy scalar if needed."""
        if is_dask_array(x):
            x = x.compute()
        return float(x)

    def to_coef(self, x):
        """Return a coefficient-sized numpy array, computing it if lazy."""
        if is_dask_array(x):
            x = x.compute()
        return np.asarray(x)

    def to_coefs(self, *xs):
        """Return small (coefficient-sized) arrays as numpy, computed together."""
        import dask

        return [np.asarray(x) for x in dask.compute(*xs)]

    def to_floats(self, *xs):
        """Return Python floats, computing the lazy ones in a single graph."""
        import dask

        return [float(x) for x in dask.compute(*xs)]


def _take_block(block, keep):
    """Return the rows of a block where ``keep`` (a column for a 2-D block)."""
    return block[keep if keep.ndim == 1 else keep[:, 0]]


def _put_block(keep, v):
    """Return a block of zeros with ``v`` at the rows where ``keep``."""
    out = np.zeros(keep.shape, dtype=v.dtype)
    out[keep] = v
    return out


def _rmatvec(X, r):
    """Return the lazy ``X.T @ r``, of shape ``(p,)`` or ``(p, K)`` for a 2-D ``r``."""
    return r @ X if r.ndim == 1 else (r.T @ X).T


def dask_unique(y):
    """Return the distinct values of a Dask array as numpy (they are few: labels)."""
    return np.unique(_dask_array().unique(y).compute())


def dask_namespace():
    """Return ``dask.array``: the namespace of lazy results on Dask input."""
    return _dask_array()
