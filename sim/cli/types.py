"""The command line's argument types: each turns a typed word into a value or says what was expected."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sim import export
from sim.analysis.changes import COST_PARTS
from sim.concepts import COMPONENTS
from sim.scenario import MAX_REPLICATIONS


def whole(lo: int = 1, hi: int | None = None) -> Callable[[str], int]:
    """A whole number in ``[lo, hi]`` (``_`` and ``,`` as thousands separators are allowed)."""
    def parse(text: str) -> int:
        try:
            v = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if hi is None and v < lo:
            raise argparse.ArgumentTypeError(f"expected a number of at least {lo}, got {v}")
        if hi is not None and not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"expected {lo}..{hi:,}, got {v}")
        return v
    return parse


replications = whole(1, MAX_REPLICATIONS)
"""Replications: 1 to the most a scenario may ask for."""

count = whole(1)
"""A count of at least 1 (workers, runs, chunk size)."""


def choices(allowed: tuple[str, ...], what: str = "a comma-separated list of") -> Callable[[str], tuple[str, ...]]:
    """A comma-separated list of ``allowed`` words (in the order given, each once)."""
    def parse(text: str) -> tuple[str, ...]:
        out = tuple(dict.fromkeys(w.strip().lower() for w in text.split(",") if w.strip()))
        if not out or any(w not in allowed for w in out):
            raise argparse.ArgumentTypeError(f"expected {what} {', '.join(allowed)}; got {text!r}")
        return out
    return parse


def qualities(text: str) -> tuple[str, ...]:
    """Source qualities to leave out (may be empty)."""
    from sim.baseline import SOURCE_QUALITIES

    return choices(SOURCE_QUALITIES)(text) if text.strip() else ()


formats = choices(export.FORMATS)
"""Table formats."""


def threshold(text: str) -> tuple[str, float | None]:
    """``land``, ``air`` or ``sea``, optionally ``=VALUE`` (a positive number)."""
    comp, _, value = text.partition("=")
    comp = comp.strip().lower()
    if comp not in COMPONENTS:
        raise argparse.ArgumentTypeError(f"expected land, air or sea (optionally =VALUE), got {text!r}")
    if not value:
        return comp, None
    try:
        v = float(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number after '=', got {value!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"a threshold must be positive, got {v}")
    return comp, v


def probability(text: str) -> float:
    """A probability in (0, 1]."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r}") from None
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"expected a probability in (0, 1], got {v}")
    return v


def weights(text: str) -> dict[str, float]:
    """Cost weights, ``troops=W,countries=W,political=W`` (any of them, not negative)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        k, sep, v = part.partition("=")
        k = k.strip()
        if not sep or k not in COST_PARTS:
            raise argparse.ArgumentTypeError(f"expected troops=W,countries=W,political=W; got {text!r}")
        try:
            out[k] = float(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number for {k}, got {v!r}") from None
        if out[k] < 0:
            raise argparse.ArgumentTypeError(f"weights must not be negative ({k}={out[k]})")
    return out


def order(text: str) -> tuple[str, ...]:
    """A lexicographic order of the cost parts (each at most once)."""
    out = tuple(w.strip() for w in text.split(",") if w.strip())
    if not out or any(w not in COST_PARTS for w in out) or len(set(out)) != len(out):
        raise argparse.ArgumentTypeError(f"expected an order of troops, countries, political; got {text!r}")
    return out
