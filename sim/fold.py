"""Folding runs into partial tables that merge exactly: counts, sums of whole numbers and exact histograms.

Every number the outcome tables hold is a count, a sum of whole numbers (forces are whole troops,
aircraft and vessels) or a quantile of whole numbers. So the state a table needs is a set of integer
counters, and the quantiles come from :class:`Histogram` s: how many runs had each whole value. Two partial
states built from any two sets of runs merge by adding their counters, which is exact and gives the same
bits in any order; a quantile read from a histogram is the very number ``numpy.quantile`` gives on the runs'
values (:func:`quantiles`, same order statistics and the same interpolation arithmetic).

That lets a worker fold its chunk where it computes it and ship a few kilobytes of counters instead of its
runs' arrays, and lets the client merge them in whatever order they arrive (:class:`sim.outcomes.TableBuilder`).
"""

from __future__ import annotations

import numba
import numpy as np


def _smallest_unsigned(a: np.ndarray) -> np.ndarray:
    """``a`` (non-negative integers) in the narrowest unsigned type that holds its largest value."""
    top = int(a.max()) if a.size else 0
    for t in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(t).max:
            return a.astype(t)
    return a.astype(np.uint64)


class Histogram:
    """How many runs had each whole value ``0 .. width-1``, per row (e.g. per month): ``counts[row, value]``.

    Merging adds counts (widening to the larger width), so it is exact and order-independent. Pickled as its
    non-zero cells only (the gaps between them and their counts, in the narrowest integer types), so a chunk's
    histogram ships in kilobytes.
    """

    __slots__ = ("counts",)

    def __init__(self, counts: np.ndarray):
        self.counts = counts

    @classmethod
    def empty(cls, rows: int) -> Histogram:
        """A histogram of ``rows`` rows and no counts."""
        return cls(np.zeros((rows, 1), dtype=np.int64))

    def reserve(self, width: int) -> None:
        """Make room for values up to ``width - 1`` (growing by half again at least, so growth is rare)."""
        rows, have = self.counts.shape
        if width > have:
            grown = np.zeros((rows, max(width, have + have // 2)), dtype=np.int64)
            grown[:, :have] = self.counts
            self.counts = grown

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s counts to these (in place)."""
        a, b = self.counts, other.counts
        if b.shape[1] > a.shape[1]:
            a, b = b.copy(), a
        a[:, :b.shape[1]] += b
        self.counts = a

    def quantiles(self, qs: np.ndarray) -> np.ndarray:
        """``numpy.quantile(values, qs, axis=0)`` of each row's values (method "linear"): ``[len(qs), rows]``."""
        cum = np.cumsum(self.counts, axis=1)
        n = int(cum[0, -1])
        qs = np.asarray(qs, dtype=np.float64)
        virtual = (n - 1) * qs  # as numpy: the position in the sorted values, then its two neighbours
        below = np.floor(virtual)
        gamma = virtual - below
        lo = np.minimum(below, n - 1).astype(np.int64)
        hi = np.minimum(below + 1, n - 1).astype(np.int64)
        a = np.stack([np.searchsorted(c, lo, side="right") for c in cum], axis=1).astype(np.float64)
        b = np.stack([np.searchsorted(c, hi, side="right") for c in cum], axis=1).astype(np.float64)
        return lerp(a, b, gamma[:, None])

    def __getstate__(self) -> tuple:
        rows = self.counts.shape[0]
        used = np.flatnonzero(self.counts.any(axis=0))
        width = int(used[-1]) + 1 if used.size else 1  # trailing empty room is not shipped
        flat = self.counts[:, :width].ravel()
        cells = np.flatnonzero(flat)
        # the gaps between non-zero cells, not their positions: mostly small, so mostly 1 or 2 bytes each
        return rows, width, _smallest_unsigned(np.diff(cells, prepend=0)), _smallest_unsigned(flat[cells])

    def __setstate__(self, state: tuple) -> None:
        rows, width, gaps, counts = state
        flat = np.zeros(rows * width, dtype=np.int64)
        flat[np.cumsum(gaps, dtype=np.int64)] = counts
        self.counts = flat.reshape(rows, width)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The interpolation of ``numpy.quantile`` between order statistics, bit for bit (numpy's ``_lerp``).

    ``a + (b - a) * t``, or ``b - (b - a) * (1 - t)`` where ``t >= 0.5``; with whole values below 2**24 the
    float32 and float64 inputs numpy may have seen give the same bits.
    """
    diff = b - a
    out = a + diff * t
    return np.where(t >= 0.5, b - diff * (1 - t), out)


@numba.njit(cache=True)
def _fold_series(series, start, threshold, months, minima, hist, month_sum, month_at, met_out, margins,
                 margin_offset, with_margins):  # pragma: no cover
    """Fold one component's ``[runs, months]`` totals into counters; returns (runs met, window total, whole?).

    A run's minimum over the window ``start..`` is counted in ``minima``, whether it reached the run's own
    threshold in ``met_out``, and with ``with_margins`` its margin (minimum - threshold, shifted by
    ``margin_offset``) in ``margins``; with ``months``, every month's value in ``hist[month]``, its sum in
    ``month_sum`` and whether it reached the threshold in ``month_at``.
    """
    n, T = series.shape
    met = 0
    total = 0
    whole = True
    for r in range(n):
        low = np.inf
        thr = threshold[r]
        if months:
            for t in range(T):
                v = series[r, t]
                iv = np.int64(v)
                whole &= (iv == v) & (iv >= 0)
                month_sum[t] += iv
                month_at[t] += v >= thr
                hist[t, iv] += 1
        for t in range(start, T):
            v = series[r, t]
            total += np.int64(v)
            low = min(low, v)
        met_out[r] = low >= thr
        met += met_out[r]
        ilow = np.int64(low)
        whole &= (ilow == low) & (ilow >= 0)
        minima[0, ilow] += 1
        if with_margins:
            m = low - thr + margin_offset
            im = np.int64(m)
            whole &= (im == m) & (im >= 0)
            margins[0, im] += 1
    return met, total, whole


def fold_series(series: np.ndarray, start: int, threshold: np.ndarray, minima: Histogram,
                months: Histogram | None, month_sum: np.ndarray, month_at: np.ndarray, met_out: np.ndarray,
                margins: Histogram | None = None, margin_offset: int = 0) -> tuple[int, int]:
    """Fold one component's ``[runs, months]`` totals of a block of runs into its counters (in place).

    ``threshold`` is each run's (``[runs]``: a drawn threshold differs from run to run). Counts each run's
    minimum over the window ``start..`` in ``minima``, writes whether it reached the threshold into
    ``met_out`` and, if ``margins`` is given, counts its margin over the threshold (shifted by
    ``margin_offset`` so that it is never negative: thresholds drawn as whole numbers up to that offset);
    if ``months`` is given, counts every month's value in ``months[month]``, adding the monthly sums to
    ``month_sum`` and the runs at or above the threshold to ``month_at``. Returns the runs whose minimum
    reaches the threshold and the window's total strength.
    """
    top = int(series.max()) if series.size else 0
    if top >= 1 << 26:
        raise ValueError(f"a force total of {top:,} is beyond what the tables can count")
    minima.reserve(top + 1)
    if months is not None:
        months.reserve(top + 1)
    if margins is not None:
        margins.reserve(top + margin_offset + 1)
    threshold = np.ascontiguousarray(np.broadcast_to(np.asarray(threshold, dtype=np.float64), series.shape[:1]))
    met, total, whole = _fold_series(np.ascontiguousarray(series), start, threshold, months is not None,
                                     minima.counts, months.counts if months is not None else minima.counts,
                                     month_sum, month_at, met_out[:series.shape[0]],
                                     margins.counts if margins is not None else minima.counts, float(margin_offset),
                                     margins is not None)
    if not whole:
        raise ValueError("force totals must be non-negative whole numbers to be counted exactly")
    return int(met), int(total)
