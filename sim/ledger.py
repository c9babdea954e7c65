"""The ledger: dated statements made after the baseline, and the baseline resolved as of any date.

The baseline (``sim/data/countries.toml``, the five articles' period, ending on :data:`LEDGER_START`) is the
ledger's first state. ``sim/data/statements.toml`` lists what was said since, each statement with its date,
whom it concerns, its source (a report in ``sources.toml``: publisher, title, date, URL, quality), a short
quote and what it sets: dotted data paths (``countries.GBR.land_troops``, ``uncertainties.us_backstop``,
``force.land_threshold_presets``) checked exactly as the baseline's own values are. The model's reading of a
statement (a number the source does not give) carries an ``assumption`` saying so.

:func:`resolve` applies every statement dated on or before a date, in date order (file order within a
day), over the baseline; :func:`sim.baseline.load_baseline` calls it, cached per date.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

from sim import baseline as _data
from sim.baseline import (
    ARTICLE_QUOTE_MAX_WORDS,
    LEDGER_START,
    SOURCE_QUALITIES,
    Baseline,
    DataError,
    Sourced,
    _check_field,
    _check_uncertainties,
)

FILE = "sim/data/statements.toml"
WEAK_QUALITIES: tuple[str, ...] = ("aggregator", "state_media")
"""Source qualities whose statements are flagged (carried only by an aggregator or state-controlled media)
and that a scenario may leave out (``leave_out_sources``)."""
BODIES: tuple[str, ...] = ("COALITION",)
"""What a statement may be about besides a country of the baseline: the coalition as a whole."""
SETTABLE = ("countries", "force", "uncertainties")
"""The data a statement may set (the heads of its dotted paths)."""
_KEYS = {"date", "about", "source", "quote", "sets", "assumption", "note"}


@dataclass(frozen=True)
class Statement:
    """One dated statement: what it sets in the model and where it was said.

    ``index`` is its position in ``statements.toml``; ``quality`` its source's quality (official,
    wire_or_record, analysis, aggregator, state_media).
    """

    index: int
    date: str
    about: str
    source: str
    quote: str
    sets: Mapping[str, Any]
    quality: str
    assumption: str | None = None
    note: str | None = None

    @property
    def weak(self) -> bool:
        """Carried only by an aggregator or state-controlled media: flagged wherever it is shown."""
        return self.quality in WEAK_QUALITIES

    @property
    def origin(self) -> str:
        """Where the statement is in the data."""
        return f"statements[{self.index}]"

    def sourced(self, value: Any) -> Sourced:
        """A value this statement sets, with its provenance (the note says its date)."""
        note = f"stated {self.date}" + (f"; {self.note}" if self.note else "")
        return Sourced(value=value, origin=self.origin, source=self.source, quote=self.quote,
                       assumption=self.assumption, note=note)


def parse_date(text: Any, where: str) -> str:
    """``text`` as a normalised ``YYYY-MM-DD`` date; :class:`DataError` naming ``where`` if it is not one."""
    if isinstance(text, date):
        return text.isoformat()
    try:
        if not isinstance(text, str) or len(text) != 10:
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise DataError(f"{where}: got {text!r}; expected a date \"YYYY-MM-DD\"") from None


def check_as_of(as_of: Any, where: str = "as_of") -> str:
    """A valid as-of date (normalised), not before the ledger starts; :class:`DataError` naming ``where``."""
    d = parse_date(as_of, where)
    if d < LEDGER_START:
        raise DataError(f"{where}: got {d!r}; the ledger starts with the baseline of 5 September 2025: expected "
                        f"\"{LEDGER_START}\" or later")
    return d


def check_qualities(qualities: tuple[str, ...], where: str = "leave_out_sources") -> None:
    """Every name is a source quality; :class:`DataError` naming ``where`` if not."""
    bad = [q for q in qualities if q not in SOURCE_QUALITIES]
    if bad:
        raise DataError(f"{where}: got {bad}; expected source qualities among {SOURCE_QUALITIES}")


def _check_value(base: Baseline, path: str, value: Any, where: str) -> None:
    """A value a statement sets passes the same check as the baseline's value at ``path``."""
    head, _, rest = path.partition(".")
    if head not in SETTABLE:
        raise DataError(f"{where}: {path!r}: a statement may set only {SETTABLE} paths")
    if head == "countries":
        iso, _, name = rest.partition(".")
        if iso not in base.iso3:
            raise DataError(f"{where}: {path!r}: unknown country code; expected one of {list(base.iso3)}")
        _check_field(FILE, where, name, Sourced(value, path, assumption="-"))
        return
    try:
        current = base.resolve(path)
    except KeyError:
        raise DataError(f"{where}: {path!r} names no value in the data") from None
    if head == "uncertainties":
        _check_uncertainties(FILE, {**base.uncertainties, rest: replace(current, value=value)})
    elif type(value) is not type(current.value) and not (
            isinstance(value, int | float) and isinstance(current.value, int | float)
            and not isinstance(value, bool) and not isinstance(current.value, bool)):
        raise DataError(f"{where}: got {value!r}; expected a value like the baseline's {current.value!r}")


@lru_cache(maxsize=1)
def load_statements() -> tuple[Statement, ...]:
    """Every statement of ``statements.toml``, checked, in date order (file order within a day)."""
    base, sources = _data.load_baseline(), _data.load_sources()
    raw = tomllib.loads(_data._read_text("statements.toml")).get("statement", [])
    out = []
    for i, st in enumerate(raw):
        where = f"{FILE}: statement[{i}]"
        unknown = set(st) - _KEYS
        if unknown:
            raise DataError(f"{where}: unknown keys {sorted(unknown)}; expected {sorted(_KEYS)}")
        missing = [k for k in ("date", "about", "source", "quote", "sets") if not st.get(k)]
        if missing:
            raise DataError(f"{where}: missing {missing}; every statement needs a date, whom it is about, a "
                            "source, a short quote and what it sets")
        when = parse_date(st["date"], f"{where}.date")
        if when <= LEDGER_START:
            raise DataError(f"{where}.date: got {when!r}; statements up to {LEDGER_START} are the baseline's "
                            "(sim/data/countries.toml): expected a later date")
        if st["about"] not in base.iso3 and st["about"] not in BODIES:
            raise DataError(f"{where}.about: got {st['about']!r}; expected a country code or one of {BODIES}")
        src = sources.get(st["source"])
        if src is None:
            raise DataError(f"{where}.source: {st['source']!r} is not in sim/data/sources.toml")
        if src.get("kind") != "report":
            raise DataError(f"{where}.source: {st['source']!r} is a {src.get('kind')!r}; expected a report "
                            "(with publisher, title, date, URL and quality)")
        words = len(str(st["quote"]).split())
        if words > ARTICLE_QUOTE_MAX_WORDS:
            raise DataError(f"{where}.quote: {words} words; at most {ARTICLE_QUOTE_MAX_WORDS} (cite, do not copy)")
        if not isinstance(st["sets"], dict):
            raise DataError(f"{where}.sets: expected a table of dotted data paths to values")
        for path, value in st["sets"].items():
            _check_value(base, path, value, f"{where}.sets")
        out.append(Statement(index=i, date=when, about=st["about"], source=st["source"], quote=st["quote"],
                             sets=dict(st["sets"]), quality=src["quality"], assumption=st.get("assumption"),
                             note=st.get("note")))
    return tuple(sorted(out, key=lambda s: (s.date, s.index)))


def statements_until(as_of: str, exclude_qualities: tuple[str, ...] = ()) -> list[Statement]:
    """The statements in force-making order up to ``as_of`` (inclusive), without the excluded qualities."""
    return [s for s in load_statements() if s.date <= as_of and s.quality not in exclude_qualities]


def resolve(base: Baseline, as_of: str, exclude_qualities: tuple[str, ...] = ()) -> Baseline:
    """The baseline with every statement dated on or before ``as_of`` applied, in date order.

    A statement setting a country's ``land_share`` replaces a ``land_troops`` figure (and the other way
    round: ``land_troops``, where given, is the pledge). Raises :class:`DataError` for a bad date or quality.
    """
    as_of = check_as_of(as_of)
    check_qualities(exclude_qualities, "exclude_qualities")
    fields = {c.iso3: dict(c.fields) for c in base.countries}
    force, uncertainties = dict(base.force), dict(base.uncertainties)
    for st in statements_until(as_of, exclude_qualities):
        for path, value in st.sets.items():
            head, _, rest = path.partition(".")
            if head == "countries":
                iso, _, name = rest.partition(".")
                if name == "land_share":
                    fields[iso].pop("land_troops", None)
                fields[iso][name] = st.sourced(value)
            elif head == "force":
                force[rest] = st.sourced(value)
            else:
                uncertainties[rest] = st.sourced(value)
    countries = tuple(replace(c, fields=fields[c.iso3]) for c in base.countries)
    return replace(base, countries=countries, force=force, uncertainties=uncertainties, as_of=as_of,
                   left_out=tuple(exclude_qualities))


def resolved_values(base: Baseline) -> dict[str, Any]:
    """Every value statements can set, by dotted path (provenance left out): what the model runs on."""
    out: dict[str, Any] = {f"force.{k}": s.value for k, s in base.force.items()}
    out.update({f"uncertainties.{k}": s.value for k, s in base.uncertainties.items()})
    for c in base.countries:
        out.update({f"countries.{c.iso3}.{k}": s.value for k, s in c.fields.items()})
    return out


def latest_date() -> str:
    """The date of the ledger's latest statement (the baseline's date if there is none)."""
    dates = [s.date for s in load_statements()]
    return max(dates) if dates else LEDGER_START
