"""Partial tables merge exactly: quantiles from histograms are numpy's, and any split or merge order gives the
same tables, also after a worker's pickled hand-over."""

import pickle
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.ensemble import iter_blocks
from sim.fold import Histogram, fold_series
from sim.outcomes import QUANTILES, TableBuilder

from .conftest import scenario

WHOLE = st.lists(st.integers(0, 3000), min_size=1, max_size=400)


def histogram_of(values: np.ndarray, rows: int = 1) -> Histogram:
    values = values.reshape(-1, rows)
    counts = np.zeros((rows, int(values.max()) + 1), dtype=np.int64)
    for r in range(rows):
        np.add.at(counts[r], values[:, r].astype(np.int64), 1)
    return Histogram(counts)


@settings(max_examples=300, deadline=None)
@given(WHOLE, st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_quantiles_from_a_histogram_are_numpys_bit_for_bit(values, qs):
    v = np.array(values, dtype=np.float64)
    got = histogram_of(v).quantiles(np.array(qs))[:, 0]
    assert got.tobytes() == np.quantile(v, qs).tobytes()
    # the per-month tables took quantiles of float32 values: the same numbers
    assert got.tobytes() == np.quantile(v.astype(np.float32), qs).astype(float).tobytes()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50000), st.integers(0, 7)), min_size=1, max_size=60))
def test_histograms_merge_the_same_in_any_order(parts):
    hs = [histogram_of(np.array([a, b, c] * (1 + c), dtype=float).reshape(-1, 3), rows=3) for a, b, c in parts]
    one = Histogram.empty(3)
    for h in hs:
        one.merge(pickle.loads(pickle.dumps(h)))
    other = Histogram.empty(3)
    for h in reversed(hs):
        other.merge(h)
    w = max(one.counts.shape[1], other.counts.shape[1])  # room reserved ahead may differ, counts may not
    a, b = (np.pad(h.counts, ((0, 0), (0, w - h.counts.shape[1]))) for h in (one, other))
    assert (a == b).all()
    assert one.quantiles(QUANTILES).tobytes() == other.quantiles(QUANTILES).tobytes()


def test_a_pickled_histogram_keeps_only_its_counts():
    h = histogram_of(np.array([5.0, 5.0, 29000.0]))
    shipped = pickle.dumps(h)
    assert len(shipped) < 400  # three cells of 29,001 (the dense counts: 232 KB)
    assert (pickle.loads(shipped).counts == h.counts).all()


def test_fractional_or_negative_totals_are_refused():
    for bad in (0.5, -1.0):
        with pytest.raises(ValueError, match="whole"):
            fold_series(np.array([[1.0, bad, 2.0]]), 0, 1.0, Histogram.empty(1), Histogram.empty(3),
                        np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64), np.zeros(1, dtype=np.bool_))


def blocks_of(name: str, runs: int, size: int):
    s = scenario(name)
    from sim.params import compile_params

    p = compile_params(s)
    return p, s, list(iter_blocks(p, s.seed, 0, runs, block=size))


@pytest.mark.parametrize("months,keep_runs", [(True, True), (False, False)])
def test_any_split_and_merge_order_gives_identical_tables(months, keep_runs):
    p, s, blocks = blocks_of("russia_strikes.toml", 900, 64)

    def builder():
        return TableBuilder(p, scenario=s.name, seed=s.seed, months=months, keep_runs=keep_runs)

    whole = builder()
    for b in blocks:
        whole.add(b)
    expected = whole.tables()
    rng = random.Random(7)
    for _ in range(3):
        order = blocks[:]
        rng.shuffle(order)
        parts = []  # uneven groups of blocks, each folded by its own "worker" and shipped pickled
        while order:
            k = rng.randint(1, 4)
            part = builder()
            for b in order[:k]:
                part.add(b)
            parts.append(pickle.loads(pickle.dumps(part)))
            order = order[k:]
        rng.shuffle(parts)
        merged = builder()
        for part in parts:
            merged.merge(part)
        got = merged.tables()
        assert list(got) == list(expected)
        for name, df in expected.items():
            pd.testing.assert_frame_equal(got[name], df, check_exact=True)
            assert got[name].to_csv().encode() == df.to_csv().encode(), name


def test_a_shipped_builder_is_small_without_per_run_rows():
    p, s, blocks = blocks_of("baseline.toml", 4096, 1024)
    part = TableBuilder(p, scenario=s.name, seed=s.seed, months=False, keep_runs=False)
    for b in blocks:
        part.add(b)
    assert len(pickle.dumps(part)) / 4096 < 20  # bytes per run; the runs' arrays were 3,400
