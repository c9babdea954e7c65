"""The declarations of :mod:`sim.concepts` turned into pydantic types, checks and words.

One annotation per declared quantity serves both the scenario schema (:mod:`sim.scenario`) and the
check of the data files (:mod:`sim.baseline`), so a bound is written once.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from sim.concepts import BACKSTOP_LEVELS, COUNTRY_FIELDS, MAX_HORIZON_MONTHS, REQUIRED, UNCERTAIN, Quantity
from sim.uncertainty import LEVEL_UNCERTAINTIES


class Strict(BaseModel):
    """Unknown fields refused, frozen, no coercion: a boolean or a string is never taken for a number."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


BackstopLevel = Literal[BACKSTOP_LEVELS]


class BackstopChange(Strict):
    """From ``month`` on, the US backstop is ``level``."""

    month: Annotated[int, Field(ge=0, le=MAX_HORIZON_MONTHS)]
    level: BackstopLevel


def _number(q: Quantity, whole: bool) -> Any:
    low = {"gt": q.low} if q.low_open else {"ge": q.low}
    return Annotated[int if whole else float, Field(**low, le=q.high)]


def annotation(q: Quantity) -> Any:
    """The pydantic type of a declared quantity (without ``| None``)."""
    match q.kind:
        case "flag":
            return bool
        case "whole" | "real":
            return _number(q, q.kind == "whole")
        case "range_whole" | "range_real":
            one = _number(q, q.kind == "range_whole")
            return tuple[one, one]
        case "choice":
            return str if q.checked_late else Literal[q.choices]
        case "text" | "country":
            return str
        case "level":
            return BackstopLevel
        case "maybe_level":  # one Literal: one clear error for a bad value
            return Literal[(*BACKSTOP_LEVELS, UNCERTAIN)]
        case "required_level":
            return Literal[(*BACKSTOP_LEVELS, *LEVEL_UNCERTAINTIES)]
        case "schedule":
            return tuple[BackstopChange, ...]
    raise ValueError(f"{q.name}: unknown kind {q.kind!r}")


def model(name: str, quantities: tuple[Quantity, ...], doc: str, *, all_optional: bool = False) -> type[Strict]:
    """A frozen, strict pydantic model with one field per quantity (its text as the field's description).

    ``all_optional``: every field may be left out (None), as a scenario's per-country overrides.
    """
    fields: dict[str, Any] = {}
    for q in quantities:
        t = annotation(q)
        if all_optional or (q.default is None):
            fields[q.name] = (t | None, Field(default=None, description=q.text))
        elif q.default is REQUIRED:
            fields[q.name] = (t, Field(description=q.text))
        else:
            fields[q.name] = (t, Field(default=q.default, description=q.text))
    return create_model(name, __base__=Strict, __doc__=doc, __module__="sim.scenario", **fields)


@cache
def _adapter(q: Quantity) -> TypeAdapter:
    return TypeAdapter(annotation(q), config=None)


def data_value_ok(q: Quantity, value: Any) -> bool:
    """Whether a data file's value is acceptable for the quantity (TOML arrays read as lists)."""
    v = tuple(value) if isinstance(value, list) else value
    try:
        _adapter(q).validate_python(v, strict=True)
    except ValidationError:
        return False
    if q.kind.startswith("range") and v[0] > v[1]:
        return False
    return not (q.checked_late and v not in q.choices)


def _num(x: float | None) -> str:
    return f"{x:,.0f}" if x is not None and float(x).is_integer() else str(x)


def expected(q: Quantity) -> str:
    """What a value of the quantity must be, in words (for error messages)."""
    low = ("> " if q.low_open else ">= ") + _num(q.low) if q.low is not None else ""
    bounds = f"{low}, <= {_num(q.high)}" if q.high is not None else low
    match q.kind:
        case "flag":
            return "true or false"
        case "whole":
            return f"a whole number of {q.unit or 'units'} {bounds}"
        case "real":
            return f"a number ({q.unit}) {bounds}" if q.unit else f"a number {bounds}"
        case "range_whole" | "range_real":
            whole = "whole numbers of " if q.kind == "range_whole" else ""
            return f"[min, max] {whole}{q.unit}, each {bounds}, min <= max"
        case "choice":
            return f"one of {q.choices}"
        case "text":
            return "a string"
        case "country":
            return "a country code of sim/data/countries.toml, or \"\" for none"
        case "required_level":
            return f"one of {BACKSTOP_LEVELS}, or a declared uncertainty {LEVEL_UNCERTAINTIES}"
        case "maybe_level":
            return f"one of {(*BACKSTOP_LEVELS, UNCERTAIN)}"
        case "level":
            return f"one of {BACKSTOP_LEVELS}"
    return q.kind


def values_words(q: Quantity) -> str:
    """The values a quantity takes, for a reader (the tables of ``scenarios/README.md``)."""
    def lo_hi() -> str:
        if q.low_open:
            return f"> {_num(q.low)}, at most {_num(q.high)}"
        return f"{_num(q.low)}–{_num(q.high)}"

    match q.kind:
        case "flag":
            return "`true` / `false`"
        case "whole":
            return f"whole {q.unit or 'number'}, {lo_hi()}"
        case "real":
            return f"{q.unit}, {lo_hi()}" if q.unit else lo_hi()
        case "range_whole" | "range_real":
            whole = "whole " if q.kind == "range_whole" else ""
            return f"`[min, max]` {whole}{q.unit}, {lo_hi()}, min ≤ max"
        case "choice":
            return ", ".join(f"`{c}`" for c in q.choices)
        case "maybe_level":
            return f"`{UNCERTAIN}`, or a level: " + ", ".join(f"`{c}`" for c in BACKSTOP_LEVELS)
        case "required_level":
            return "a backstop level, or " + " / ".join(f"`{c}`" for c in LEVEL_UNCERTAINTIES)
        case "schedule":
            return "list of `{ month = M, level = \"…\" }`"
        case "country":
            return "a country code, or `\"\"` for none"
    return q.kind


COUNTRY_REFERENCES: tuple[str, ...] = tuple(q.name for q in COUNTRY_FIELDS if q.kind == "country")
"""Country fields whose value names another country (checked against the data's countries)."""


def country_reference_errors(values: dict[str, Any], known: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(field, message)`` for each value of a ``country`` field that names no country of the data."""
    return [(name, f"got {v!r}; expected one of {sorted(known)}, or \"\" for none")
            for name, v in values.items() if name in COUNTRY_REFERENCES and isinstance(v, str) and v
            and v not in known]
