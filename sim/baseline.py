"""The baseline: the articles' encoding in ``sim/data/``, loaded, checked and kept with its provenance.

Every value the model uses from the data files is a :class:`Sourced` — the value together with where it
comes from (an article id and a short quote, a reference-data id, or an ``assumption`` with its reason).
Loading fails loudly, naming the file and the field, if any value lacks provenance or is out of range.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from importlib import resources
from typing import Any

from sim import concepts
from sim.concepts import BACKSTOP_LEVELS, COMPONENTS, ROLES, STANCES  # noqa: F401  (declared there, used here)
from sim.fields import country_reference_errors, data_value_ok, expected
from sim.uncertainty import UNCERTAINTIES


class DataError(ValueError):
    """A data file in ``sim/data/`` is malformed: names the file, the field and what was expected."""


@dataclass(frozen=True)
class Sourced:
    """A value with its provenance.

    At least one of ``source`` (an id in ``sources.toml``) or ``assumption`` (the reason) is set. Both
    are set for an assumption grounded in a source: the article states the stance, the number is the
    model's reading of it. ``quote`` is a short quote (article sources need one). ``origin`` is the
    dotted path of the value in the data file it came from (e.g. ``profiles.lead.land_share``) or
    ``scenario:NAME`` when a scenario overrode it.
    """

    value: Any
    origin: str
    source: str | None = None
    quote: str | None = None
    assumption: str | None = None
    note: str | None = None

    @property
    def kind(self) -> str:
        """``sourced`` (stated by its source), ``assumption``, or ``assumption (sourced stance)``."""
        if self.assumption and self.source:
            return "assumption (sourced stance)"
        return "assumption" if self.assumption else "sourced"

    def label(self) -> str:
        """A one-line human label of the provenance."""
        text = self.source or ""
        if self.quote:
            text += f': "{self.quote}"'
        if self.note:
            text += f" ({self.note})"
        if self.assumption:
            return f"assumption: {self.assumption}" + (f" [grounded in {text}]" if text else "")
        return text


@dataclass(frozen=True)
class Country:
    """One country as the baseline encodes it: its fields with provenance, and its capacity."""

    iso3: str
    name: str
    profile: str
    claims: tuple[str, ...]
    fields: Mapping[str, Sourced]
    active_personnel: Sourced
    mine_vessels: Sourced

    def __getitem__(self, key: str) -> Any:
        return self.fields[key].value


def _is_prob(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0


def _is_nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_nonneg_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v >= 0


def _is_range_of(v: Any, check) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(check(x) for x in v) and v[0] <= v[1]


COUNTRY_FIELDS: dict[str, tuple[Any, str]] = {
    q.name: (partial(data_value_ok, q), expected(q)) for q in concepts.DATA_FIELDS}
"""Field name -> (checker, expected description), derived from the declarations (:mod:`sim.concepts`):
the same types and bounds as a scenario's overrides. Checkers return True when the value is acceptable."""

OPTIONAL_FIELDS = frozenset(q.name for q in concepts.DATA_FIELDS if q.optional)
"""Country fields a profile need not give: ``land_troops`` (a sourced pledge in troops) replaces
``land_share`` where a country's own figure was reported."""
QUOTED_KINDS = ("article", "report")
"""Source kinds whose citations need a short quote: the five articles and later published reports."""
SOURCE_QUALITIES = ("official", "wire_or_record", "analysis", "aggregator", "state_media")
"""What a published report is: government or official text, a wire agency or newspaper of record, an
analysis, an aggregator (relaying others), or state-controlled media."""

LEDGER_START = "2025-09-05"
"""The date of the baseline (the articles' period ends here): the ledger's first state."""

_PROVENANCE_KEYS = {"value", "source", "quote", "assumption", "note", "claims"}
ARTICLE_QUOTE_MAX_WORDS = 45


@dataclass(frozen=True)
class Baseline:
    """The whole baseline: countries in table order, force-level facts, backstop levels, sources, claims.

    ``as_of`` is the date it is resolved at (the ledger's statements up to that date applied, see
    :mod:`sim.ledger`); ``left_out`` the source qualities whose statements were skipped.
    """

    countries: tuple[Country, ...]
    force: Mapping[str, Sourced]
    backstop: Mapping[str, Sourced]
    sources: Mapping[str, Mapping[str, str]]
    claims: Mapping[str, tuple[str, ...]]
    profiles: Mapping[str, Mapping[str, Sourced]] = field(default_factory=dict)
    uncertainties: Mapping[str, Sourced] = field(default_factory=dict)
    conditions: Mapping[str, Sourced] = field(default_factory=dict)
    as_of: str = LEDGER_START
    left_out: tuple[str, ...] = ()

    @property
    def iso3(self) -> tuple[str, ...]:
        """Country codes in table order."""
        return tuple(c.iso3 for c in self.countries)

    def country(self, iso3: str) -> Country:
        """The country with this ISO3 code (KeyError if none)."""
        for c in self.countries:
            if c.iso3 == iso3:
                return c
        raise KeyError(iso3)

    def resolve(self, path: str) -> Sourced:
        """The value at a dotted data path such as ``countries.FRA.land_stance`` (KeyError if none)."""
        head, _, rest = path.partition(".")
        if head == "force":
            return self.force[rest]
        if head == "backstop_levels":
            return self.backstop[rest]
        if head == "uncertainties":
            return self.uncertainties[rest]
        if head == "conditions":
            return self.conditions[rest]
        if head == "profiles":
            prof, _, name = rest.partition(".")
            return self.profiles[prof][name]
        if head == "countries":
            iso, _, name = rest.partition(".")
            return self.country(iso).fields[name]
        raise KeyError(path)

    def provenance_records(self) -> list[dict[str, Any]]:
        """One record per country field and force value: the value and its provenance, for tables."""
        rows: list[dict[str, Any]] = []

        def add(scope: str, name: str, s: Sourced) -> None:
            src = self.sources.get(s.source or "", {})
            rows.append({
                "scope": scope, "field": name, "value": _plain(s.value), "origin": s.origin,
                "source": s.source, "publisher": src.get("publisher"), "title": src.get("title"),
                "date": src.get("date"), "quote": s.quote, "assumption": s.assumption, "note": s.note,
                "kind": s.kind,
            })

        for k, s in self.force.items():
            add("force", k, s)
        for k, s in self.backstop.items():
            add("backstop_levels", k, s)
        for k, s in self.uncertainties.items():
            add("uncertainties", k, s)
        for k, s in self.conditions.items():
            add("conditions", k, s)
        for c in self.countries:
            for k, s in c.fields.items():
                add(c.iso3, k, s)
            add(c.iso3, "active_personnel", c.active_personnel)
            add(c.iso3, "mine_vessels", c.mine_vessels)
        return rows


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_plain(x)}" for k, x in v.items())
    return ", ".join(map(str, v)) if isinstance(v, list) else v


def _sourced(raw: Any, origin: str, sources: Mapping[str, Any], file: str) -> Sourced:
    if not isinstance(raw, dict) or "value" not in raw:
        raise DataError(f"{file}: {origin}: expected an inline table {{ value = ..., source/assumption = ... }}")
    unknown = set(raw) - _PROVENANCE_KEYS
    if unknown:
        raise DataError(f"{file}: {origin}: unknown keys {sorted(unknown)}; expected {sorted(_PROVENANCE_KEYS)}")
    src, assumption = raw.get("source"), raw.get("assumption")
    if not src and not assumption:
        raise DataError(f"{file}: {origin}: give a `source` or an `assumption` (the provenance), or both")
    if src is not None:
        if src not in sources:
            raise DataError(f"{file}: {origin}: source {src!r} is not in sources.toml ({sorted(sources)})")
        if sources[src].get("kind") in QUOTED_KINDS:
            quote = raw.get("quote")
            if not quote:
                raise DataError(f"{file}: {origin}: an article source needs a short `quote`")
            if len(quote.split()) > ARTICLE_QUOTE_MAX_WORDS:
                raise DataError(f"{file}: {origin}: quote has {len(quote.split())} words; at most "
                                f"{ARTICLE_QUOTE_MAX_WORDS} (cite, do not copy)")
    return Sourced(value=raw["value"], origin=origin, source=src, quote=raw.get("quote"),
                   assumption=assumption, note=raw.get("note"))


def _read_text(name: str) -> str:
    return resources.files("sim").joinpath("data", name).read_text(encoding="utf-8")


def _load_capacity(sources: Mapping[str, Any]) -> dict[str, tuple[Sourced, Sourced]]:
    file = "sim/data/capacity.csv"
    out: dict[str, tuple[Sourced, Sourced]] = {}
    reader = csv.DictReader(_read_text("capacity.csv").splitlines())
    for i, row in enumerate(reader, start=2):
        iso = row["iso3"]
        try:
            active = int(row["active_personnel_gfp2025"])
        except ValueError:
            raise DataError(f"{file}: line {i} ({iso}): active_personnel_gfp2025 must be a whole number") from None
        vessels_raw = row["mine_warfare_vessels_gfp2025"].strip()
        if vessels_raw:
            vessels = Sourced(int(vessels_raw), f"capacity.{iso}.mine_warfare_vessels_gfp2025", source="GFP2025")
        else:
            vessels = Sourced(0, f"capacity.{iso}.mine_warfare_vessels_gfp2025",
                              assumption="Global Firepower 2025 lists no mine-warfare vessels; taken as none.")
        out[iso] = (Sourced(active, f"capacity.{iso}.active_personnel_gfp2025", source="GFP2025"), vessels)
    return out


def _check_field(file: str, origin: str, name: str, s: Sourced) -> None:
    if name not in COUNTRY_FIELDS:
        raise DataError(f"{file}: {origin}: unknown field; expected one of {sorted(COUNTRY_FIELDS)}")
    check, expected = COUNTRY_FIELDS[name]
    if not check(s.value):
        raise DataError(f"{file}: {origin}: got {s.value!r}; expected {expected}")


def _check_uncertainties(file: str, data: Mapping[str, Sourced]) -> None:
    """Every declared uncertainty (sim/uncertainty.py) has options or a range here, and nothing else does."""
    declared = {u.name: u for u in UNCERTAINTIES}
    for name in sorted(set(declared) ^ set(data)):
        where = ("declared in sim/uncertainty.py but missing" if name in declared
                 else "not declared in sim/uncertainty.py")
        raise DataError(f"{file}: uncertainties.{name}: {where}")
    for name, s in data.items():
        u, v, origin = declared[name], s.value, f"uncertainties.{name}"
        if u.kind == "level":
            ok = (isinstance(v, dict) and v and all(k in BACKSTOP_LEVELS for k in v)
                  and all(_is_nonneg_num(w) for w in v.values()) and sum(v.values()) > 0)
            expected = f"a table of levels {BACKSTOP_LEVELS} to weights >= 0 (not all zero)"
        else:
            check = _is_nonneg_int if u.kind == "whole" else _is_prob
            ranges = list(v.values()) if isinstance(v, dict) else [v]
            ok = bool(ranges) and all(_is_range_of(r, check) for r in ranges)
            expected = ("[low, high] whole numbers >= 0" if u.kind == "whole" else "[low, high] in [0, 1]") + \
                ", low <= high (or a table of such ranges by air mission)"
        if not ok:
            raise DataError(f"{file}: {origin}: got {v!r}; expected {expected}")


def _declared_conditions(file: str, data: Mapping[str, Any], sources: Mapping[str, Any]) -> dict[str, Sourced]:
    """Which components each condition binds, with its provenance, from the declarations (sim/concepts.py).

    Checked as the data's own values are (known sources, short quotes).
    """
    if "conditions" in data:
        raise DataError(f"{file}: conditions: the components each condition binds are declared with the "
                        "condition, in sim/concepts.py; expected no [conditions] table here")
    out = {}
    for c in concepts.CONDITIONS_DECLARED:
        raw = {k: v for k, v in (("source", c.source), ("quote", c.quote), ("assumption", c.assumption),
                                 ("note", c.note)) if v is not None}
        out[c.name] = _sourced({"value": list(c.binds), **raw}, f"conditions.{c.name}", sources,
                               "sim/concepts.py")
    return out


@lru_cache(maxsize=64)
def load_baseline(as_of: str | None = None, exclude_qualities: tuple[str, ...] = ()) -> Baseline:
    """The baseline resolved as of a date: cached per argument, immutable so the cache cannot be corrupted.

    ``as_of`` (``"YYYY-MM-DD"``; None: the baseline's own date, :data:`LEDGER_START`) applies every
    statement of ``sim/data/statements.toml`` dated on or before it, in date order (:mod:`sim.ledger`);
    statements whose source quality is in ``exclude_qualities`` are skipped. A date before the ledger
    starts, or not a date, raises :class:`DataError` (ValueError) saying so.
    """
    if as_of is None and not exclude_qualities:
        return _load_period_baseline()
    from sim import ledger  # the ledger builds on this module

    return ledger.resolve(load_baseline(), as_of or LEDGER_START, tuple(sorted(set(exclude_qualities))))


def load_sources() -> dict[str, dict[str, Any]]:
    """``sim/data/sources.toml``, checked: every report names its publisher, title, date, URL and quality."""
    sources = tomllib.loads(_read_text("sources.toml"))
    for sid, src in sources.items():
        if src.get("kind") == "report":
            missing = [k for k in ("publisher", "title", "date", "url", "quality") if not src.get(k)]
            if missing:
                raise DataError(f"sim/data/sources.toml: {sid}: a report needs {missing}")
            if src["quality"] not in SOURCE_QUALITIES:
                raise DataError(f"sim/data/sources.toml: {sid}.quality: got {src['quality']!r}; expected one of "
                                f"{SOURCE_QUALITIES}")
    return sources


def _load_period_baseline() -> Baseline:
    """Load and check ``sim/data/`` as of the baseline's own date (the five articles' period)."""
    file = "sim/data/countries.toml"
    sources = load_sources()
    data = tomllib.loads(_read_text("countries.toml"))
    capacity = _load_capacity(sources)

    force = {k: _sourced(v, f"force.{k}", sources, file) for k, v in data["force"].items()}
    backstop = {k: _sourced(v, f"backstop_levels.{k}", sources, file) for k, v in data["backstop_levels"].items()}
    if tuple(backstop["order"].value) != BACKSTOP_LEVELS:
        raise DataError(f"{file}: backstop_levels.order: expected {list(BACKSTOP_LEVELS)} (the code's order)")

    profiles: dict[str, dict[str, Sourced]] = {}
    for pname, praw in data["profiles"].items():
        prof = {}
        for k, v in praw.items():
            if k not in COUNTRY_FIELDS:
                raise DataError(f"{file}: profiles.{pname}.{k}: unknown field; "
                                f"expected one of {sorted(COUNTRY_FIELDS)}")
            prof[k] = _sourced(v, f"profiles.{pname}.{k}", sources, file)
            _check_field(file, f"profiles.{pname}.{k}", k, prof[k])
        for q in concepts.DATA_FIELDS:  # a field the profile leaves out takes its declared default, if any
            if q.name not in prof and q.data_default is not None:
                prof[q.name] = Sourced(q.data_default, f"profiles.{pname}.{q.name}", assumption=q.assumption)
                _check_field("sim/concepts.py", f"{q.name}.data_default", q.name, prof[q.name])
        missing = set(COUNTRY_FIELDS) - set(prof) - OPTIONAL_FIELDS
        if missing:
            raise DataError(f"{file}: profiles.{pname}: missing fields {sorted(missing)}")
        profiles[pname] = prof

    countries = []
    for iso, craw in data["countries"].items():
        craw = dict(craw)
        name = craw.pop("name", None)
        pname = craw.pop("profile", None)
        claims = tuple(craw.pop("claims", ()))
        if not name or pname not in profiles:
            raise DataError(f"{file}: countries.{iso}: needs `name` and a `profile` in {sorted(profiles)}")
        fields = dict(profiles[pname])
        for k, v in craw.items():
            if k not in COUNTRY_FIELDS:
                raise DataError(f"{file}: countries.{iso}.{k}: unknown field; expected one of {sorted(COUNTRY_FIELDS)}")
            fields[k] = _sourced(v, f"countries.{iso}.{k}", sources, file)
            _check_field(file, f"countries.{iso}.{k}", k, fields[k])
        if iso not in capacity:
            raise DataError(f"sim/data/capacity.csv: no row for {iso} (named in {file})")
        active, vessels = capacity[iso]
        countries.append(Country(iso3=iso, name=name, profile=pname, claims=claims, fields=fields,
                                 active_personnel=active, mine_vessels=vessels))

    iso3 = tuple(c.iso3 for c in countries)
    for c in countries:
        for fld, msg in country_reference_errors({k: s.value for k, s in c.fields.items()}, iso3):
            raise DataError(f"{file}: {c.fields[fld].origin}: {msg}")
    uncertainties = {k: _sourced(v, f"uncertainties.{k}", sources, file)
                     for k, v in data.get("uncertainties", {}).items()}
    _check_uncertainties(file, uncertainties)
    conditions = _declared_conditions(file, data, sources)

    claims = {k: tuple(v) for k, v in data["claims"].items()}
    base = Baseline(countries=tuple(countries), force=force, backstop=backstop, sources=sources,
                    claims=claims, profiles=profiles, uncertainties=uncertainties, conditions=conditions)
    for cid, paths in claims.items():
        for p in paths:
            if p.startswith("scenario:"):
                continue
            try:
                base.resolve(p)
            except KeyError:
                raise DataError(f"{file}: claims.{cid}: path {p!r} names no value in the data") from None
    return base
