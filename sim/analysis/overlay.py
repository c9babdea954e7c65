"""Parameters of many variants of one scenario, composed from changes compiled one at a time.

A change (an option of the gap search, one factor's value at a sample point) alters some elements of the
compiled parameters (:func:`differences`). When changes alter disjoint elements (:func:`overlaps`), and
what each change sets depends on that change alone, the parameters of several changes together are the
base's with each change's own elements laid over them (:func:`lay_over`): what compiling them together
gives, for a few array copies instead of a validation and a compile. The callers check both conditions
and compile the ordinary way where they do not hold; tests compare the two, variant by variant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np

from sim.params import Params


def differences(base: Params, other: Params) -> dict[str, Any]:
    """The fields in which ``other`` differs from ``base``: ``True`` (the whole field) or a mask of elements.

    Arrays and tuples (e.g. the compiled uncertainties) are compared element by element; an array of
    records (``Params.countries``) record field by record field, as ``{record field: mask}``, so changes
    to different fields of one country's record (its troops decision, its willingness) do not overlap.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Params):
        a, b = getattr(base, f.name), getattr(other, f.name)
        if isinstance(a, np.ndarray) and a.dtype.names and a.dtype == b.dtype and a.shape == b.shape:
            masks = {q: a[q] != b[q] for q in a.dtype.names}
            masks = {q: m for q, m in masks.items() if m.any()}
            if masks:
                out[f.name] = masks
        elif isinstance(a, np.ndarray | tuple) and len(a) == len(b) and np.shape(a) == np.shape(b):
            mask = (a != b) if isinstance(a, np.ndarray) else np.array([x != y for x, y in zip(a, b, strict=True)])
            if mask.any():
                out[f.name] = mask
        elif isinstance(a, np.ndarray | tuple) or a != b:
            out[f.name] = True
    return out


def touch(x: Any, y: Any) -> bool:
    """Whether two difference masks (:func:`differences` values) share a field element."""
    if x is True or y is True:
        return True
    if isinstance(x, dict):  # record fields
        return any(touch(m, y[q]) for q, m in x.items() if q in y)
    return bool((x & y).any())


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two changes' differences share an element."""
    return any(touch(m, b[f]) for f, m in a.items() if f in b)


def union(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The elements altered by either of two changes."""
    out = dict(a)
    for f, m in b.items():
        if f not in out:
            out[f] = m
        elif out[f] is True or m is True:
            out[f] = True
        else:
            out[f] = union(out[f], m) if isinstance(m, dict) else out[f] | m
    return out


def lay_over(base: Params, layers: Iterable[tuple[Params, dict[str, Any]]]) -> Params:
    """``base`` with, for each ``(source, diffs)``, the elements ``diffs`` marks taken from ``source``."""
    changed: dict[str, Any] = {}
    for source, diffs in layers:
        for name, mask in diffs.items():
            value = getattr(source, name)
            if mask is True:
                changed[name] = value
            elif isinstance(mask, dict):  # record fields of an array of records
                arr = changed[name] = changed.get(name, getattr(base, name)).copy()
                for q, m in mask.items():
                    arr[q][m] = value[q][m]
            elif isinstance(value, tuple):
                now = list(changed.get(name, getattr(base, name)))
                for i in np.flatnonzero(mask):
                    now[i] = value[i]
                changed[name] = tuple(now)
            else:
                arr = changed[name] = changed.get(name, getattr(base, name)).copy()
                arr[mask] = value[mask]
    return dataclasses.replace(base, **changed)
