"""Scenario files: a delta on the baseline, validated at the door and frozen for the run.

A scenario is TOML (read with the standard library; nothing in it is executed)::

    name = "baseline"
    description = "..."
    seed = 20250904
    replications = 2000
    extends = "baseline.toml"      # optional: a file this one changes (path relative to this file)
    as_of = "2026-01-06"           # optional: the data as of this date (the ledger, sim/data/statements.toml)
    leave_out_sources = ["aggregator", "state_media"]   # optional: skip statements resting on these

    [levers]                       # global levers (all required once `extends` is resolved)
    us_backstop = "command_and_control"
    ...
    [thresholds]                   # land troops; air and sea default to the sourced data values
    land = 30000
    [countries.FRA]                # per-country overrides of the baseline's fields
    government_falls_month = 6
    [sweep]                        # optional: lever -> list of values; every combination is run
    "levers.us_backstop" = ["command_and_control", "air_cover"]

Every error of a file is reported at once, each naming the file, the field path, the value and what was
expected (:class:`ScenarioError`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import Field, ValidationError

from sim import concepts, rules
from sim.baseline import COUNTRY_FIELDS, LEDGER_START, Baseline, DataError, Sourced, load_baseline
from sim.concepts import MAX_HORIZON_MONTHS, RANGE_FIELDS  # noqa: F401  (part of this module's API)
from sim.fields import BackstopChange, Strict, country_reference_errors, model  # noqa: F401  (BackstopChange)
from sim.ledger import check_as_of
from sim.scenario_files import (  # noqa: F401  (MAX_FILE_BYTES, parse_toml_text: part of this module's API)
    MAX_FILE_BYTES,
    ScenarioError,
    as_tuples,
    parse_toml_text,
    read_toml,
    resolve_extends,
)

MAX_SWEEP_POINTS = 10_000
MAX_REPLICATIONS = 10_000_000

SourceQuality = Literal["official", "wire_or_record", "analysis", "aggregator", "state_media"]
"""A source's quality (sim.baseline.SOURCE_QUALITIES); a scenario may leave out statements resting on some."""

# The schema, derived from the declarations (sim.concepts): one field per lever, threshold, country field.
Levers = model("Levers", concepts.LEVERS, """The global levers (:data:`sim.concepts.LEVERS`).

    ``us_backstop``, ``backstop_required_by_leads``, ``backstop_required_by_others`` and ``army_share``
    pin a declared uncertainty (:mod:`sim.uncertainty`); ``"uncertain"`` (or no ``army_share``) leaves it
    drawn per run.
    """)
Thresholds = model("Thresholds", concepts.THRESHOLDS, """Threshold each component must hold over the
    assessment window: troops, aircraft, vessels (:data:`sim.concepts.THRESHOLDS`).

    Air and sea pin a declared uncertainty; left out, they are drawn per run from the data's range.
    """)
CountryOverride = model("CountryOverride", concepts.OVERRIDE_FIELDS, """Per-country changes
    (:data:`sim.concepts.COUNTRY_FIELDS` that a scenario may override).

    The baseline's fields except ``role``, ``training`` and ``materiel``, plus ``government_falls_month``
    (a forced fall of government). ``land_troops`` (a [min, max] pledge in troops) replaces ``land_share``.
    Ranges are [min, max] with min <= max (checked in :func:`_validate`). ``is_lead`` and the conditions
    drive behaviour; the stances and ``coalition_member`` are descriptive (shown and exported), so a changed
    stance alone changes no result — change the pledge or the conditions.
    """, all_optional=True)


SWEEPABLE_PREFIXES = ("levers.", "thresholds.", "countries.")
NOT_CONTRIBUTORS = {name: role.instead for name, role in concepts.NOT_COUNTED.items()}
"""Roles whose countries take no per-country overrides, and the levers that stand for them instead."""


class Scenario(Strict):
    """A validated, frozen scenario (after ``extends`` is resolved; before sweep expansion)."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$")]
    description: Annotated[str, Field(max_length=4000)]
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)]
    levers: Levers
    thresholds: Thresholds
    countries: Mapping[str, CountryOverride] = Field(default_factory=dict)
    sweep: Mapping[str, tuple[Any, ...]] = Field(default_factory=dict)
    as_of: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    leave_out_sources: tuple[SourceQuality, ...] = ()
    source_file: str | None = None

    def baseline(self) -> Baseline:
        """The data this scenario runs on: the baseline as of ``as_of``, without the left-out sources."""
        return load_baseline(self.as_of, tuple(sorted(set(self.leave_out_sources))))

    def _dump(self, **kw: Any) -> dict[str, Any]:
        # as_of and leave_out_sources only when set, so a scenario without them hashes as it did before them
        d = self.model_dump(mode="json", exclude={"source_file"}, **kw)
        if d.get("as_of") is None:
            d.pop("as_of", None)
        if not d.get("leave_out_sources"):
            d.pop("leave_out_sources", None)
        return d

    def content_hash(self) -> str:
        """SHA-256 of the resolved scenario (sorted JSON), excluding where it was read from."""
        payload = self._dump()
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def to_toml_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data (no ``extends``), ready to write back as TOML."""
        d = self._dump(exclude_none=True)
        if not d.get("sweep"):
            d.pop("sweep", None)
        if not d.get("countries"):
            d.pop("countries", None)
        if not d["levers"].get("us_backstop_changes"):
            d["levers"].pop("us_backstop_changes", None)
        return d

    def to_toml(self) -> str:
        """The resolved scenario as TOML text that loads back to an equal scenario."""
        return tomli_w.dumps(self.to_toml_dict())

    def with_changes(self, changes: Mapping[str, Any], *, name: str | None = None) -> Scenario:
        """A new validated scenario with dotted-path changes applied (e.g. ``{"levers.un_framework": True}``)."""
        data = self.model_dump(mode="json")
        for path, value in changes.items():
            _set_path(data, path, value)
        if name is not None:
            data["name"] = name
        data["sweep"] = {}
        return _validate(data, data.get("source_file") or "<scenario>")

    def sweep_points(self) -> list[dict[str, Any]]:
        """Every combination of the sweep's values, as dotted-path change dicts (one empty dict if none)."""
        if not self.sweep:
            return [{}]
        keys = sorted(self.sweep)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(self.sweep[k] for k in keys))]

    def expand(self) -> list[tuple[dict[str, Any], Scenario]]:
        """The sweep expanded: (point, scenario with the point applied) for each point, in a fixed order."""
        return [(p, self.with_changes(p) if p else self) for p in self.sweep_points()]


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise KeyError(path)
    node[parts[-1]] = value


def _loc(loc: tuple[Any, ...]) -> str:
    parts = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def _number(x: Any) -> int | float | None:
    """``x`` if it is a number (not a boolean), else None: checks on raw data skip what the schema refuses."""
    return x if isinstance(x, int | float) and not isinstance(x, bool) else None


def _sweep_size(sweep: Any) -> int:
    """Sweep points a raw ``[sweep]`` table asks for (counted before any value is looked at)."""
    if not isinstance(sweep, Mapping):
        return 1
    return math.prod(len(v) if isinstance(v, tuple) else 1 for v in sweep.values())


LATE_CHOICES = tuple(q.name for q in concepts.OVERRIDE_FIELDS if q.checked_late)
"""Override fields the schema takes as text and :func:`_raw_errors` checks against their choices."""


def _raw_errors(data: Mapping[str, Any], name: str, baseline: Baseline) -> list[tuple[str, str, str]]:
    """The checks across fields, on the raw data: they run even where a field failed its own check.

    Each check uses only the values it needs and skips any the schema refuses (reported by it), so that
    one run of ``validate`` reports every problem of a file.
    """
    errors = []
    levers = data.get("levers") if isinstance(data.get("levers"), Mapping) else {}
    horizon = _number(levers.get("horizon_months"))
    horizon = int(horizon) if horizon is not None and horizon == int(horizon) and horizon >= 1 else None
    countries = data.get("countries") if isinstance(data.get("countries"), Mapping) else {}
    known = set(baseline.iso3)
    for iso, ov in countries.items():
        if iso not in known:
            errors.append((name, f"countries.{iso}", f"unknown country code; expected one of {sorted(known)}"))
            continue
        if not isinstance(ov, Mapping):
            continue
        for fld in LATE_CHOICES:
            v = ov.get(fld)
            if isinstance(v, str):
                ok, expected = COUNTRY_FIELDS[fld]
                if not ok(v):
                    errors.append((name, f"countries.{iso}.{fld}", f"got {v!r}; expected {expected}"))
        for fld in RANGE_FIELDS:
            v = ov.get(fld)
            if isinstance(v, tuple) and len(v) == 2 and None not in (lo := _number(v[0]), hi := _number(v[1])) \
                    and lo > hi:
                errors.append((name, f"countries.{iso}.{fld}", f"got [{lo}, {hi}]; min {lo} is above max {hi}"))
        errors += [(name, f"countries.{iso}.{fld}", msg) for fld, msg in country_reference_errors(ov, baseline.iso3)]
        if ov.get("land_share") is not None and ov.get("land_troops") is not None:
            errors.append((name, f"countries.{iso}", "give land_share or land_troops, not both"))
        role = baseline.country(iso)["role"]
        set_fields = {k: v for k, v in ov.items() if v is not None}
        keeps_out = set(set_fields) <= {"p_participate"} and set_fields.get("p_participate", 0) == 0
        if role in NOT_CONTRIBUTORS and not keeps_out:
            errors.append((name, f"countries.{iso}",
                           f"{baseline.country(iso).name} is the force's {role}, not a contributor; "
                           f"{NOT_CONTRIBUTORS[role]}"))
        fall = _number(ov.get("government_falls_month"))
        if fall is not None and horizon is not None and fall >= horizon:
            errors.append((name, f"countries.{iso}.government_falls_month",
                           f"got {fall}; expected a month before horizon_months ({horizon})"))
    sweep = data.get("sweep") if isinstance(data.get("sweep"), Mapping) else {}
    for key, values in sweep.items():
        if not key.startswith(SWEEPABLE_PREFIXES):
            errors.append((name, f"sweep.{key}", f"expected a dotted path starting with {SWEEPABLE_PREFIXES}"))
        elif isinstance(values, tuple) and not values:
            errors.append((name, f"sweep.{key}", "expected a non-empty list of values"))
    npoints, reps = _sweep_size(sweep), _number(data.get("replications"))
    if npoints <= MAX_SWEEP_POINTS and reps is not None and npoints * reps > MAX_REPLICATIONS:
        errors.append((name, "sweep" if npoints > 1 else "replications",
                       f"{npoints} sweep point(s) x {reps} replications = {npoints * reps:,} runs; at most "
                       f"{MAX_REPLICATIONS:,} expected"))
    changes = levers.get("us_backstop_changes")
    months = [_number(c.get("month")) for c in changes if isinstance(c, Mapping)] if isinstance(changes, tuple) else []
    for i, month in enumerate(months):
        if month is not None and horizon is not None and month >= horizon:
            errors.append((name, f"levers.us_backstop_changes[{i}].month",
                           f"got {month}; expected a month before horizon_months ({horizon})"))
    if None not in months and months != sorted(set(months)):
        errors.append((name, "levers.us_backstop_changes",
                       "expected changes in increasing month order, one change per month"))
    if levers.get("un_framework") is True and levers.get("russia_stance") == "reject":
        errors.append((name, "levers.un_framework",
                       "un_framework = true needs russia_stance = \"tolerate\": a UN Security Council mandate needs "
                       "Russia's vote, and Russia wants to be among the guarantors (A002)"))
    ceasefire, ceasefire_month = levers.get("ceasefire"), _number(levers.get("ceasefire_month"))
    if isinstance(ceasefire, bool) and ceasefire_month is not None and horizon is not None:
        build_up = baseline.force["build_up_months"].value  # where the window would start, horizon unbounded:
        first_tested = int(rules.assessment_start(ceasefire_month if ceasefire else rules.NEVER, build_up,
                                                  rules.NEVER))
        if ceasefire and ceasefire_month >= horizon:
            errors.append((name, "levers.ceasefire_month",
                           f"got {ceasefire_month}; expected a month before horizon_months ({horizon}), or "
                           "ceasefire = false"))
        elif first_tested >= horizon:
            errors.append((name, "levers.horizon_months",
                           f"got {horizon}; the thresholds are tested from {build_up} months after the ceasefire "
                           f"(month {first_tested}), so expected a horizon of at least {first_tested + 1} months"))
    return errors


def _schema_errors(e: ValidationError, name: str) -> list[tuple[str, str, str]]:
    errors = []
    for err in e.errors():
        loc = _loc(tuple(x for x in err["loc"] if not str(x).startswith("function-after")))
        got = err.get("input")
        got_text = "" if isinstance(got, dict) else f"got {got!r}; "
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing"
            got_text = ""
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
            got_text = ""  # never echo what an unknown field holds
        errors.append((name, loc, f"{got_text}{msg}"))
    return errors


def _sweep_value_errors(scen: Scenario, name: str, already: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Each sweep value applied to the scenario alone (each distinct value once).

    ``already``: the errors of the scenario itself, not repeated for every value.
    """
    errors: list[tuple[str, str, str]] = []
    for key, values in scen.sweep.items():
        if not key.startswith(SWEEPABLE_PREFIXES) or not values:
            continue  # reported by _raw_errors
        checked: dict[str, list[tuple[str, str]]] = {}
        for i, v in enumerate(values):
            seen_as = json.dumps(v, sort_keys=True, default=repr) + type(v).__name__
            if seen_as not in checked:
                try:
                    scen.with_changes({key: v})
                    checked[seen_as] = []
                except ScenarioError as e:
                    checked[seen_as] = [(fld, msg) for _, fld, msg in e.errors if (name, fld, msg) not in already]
                except KeyError:
                    errors.append((name, f"sweep.{key}", "names no lever"))
                    break
            errors += [(name, f"sweep.{key}[{i}]", f"{fld}: {msg}") for fld, msg in checked[seen_as]]
    return errors


def _validate(data: dict[str, Any], name: str, baseline: Baseline | None = None) -> Scenario:
    errors: list[tuple[str, str, str]] = []
    data = as_tuples(dict(data))
    if isinstance(data.get("as_of"), date):  # a TOML date (as_of = 2026-01-06) reads as a date
        data["as_of"] = data["as_of"].isoformat()
    data.setdefault("source_file", name)
    npoints = _sweep_size(data.get("sweep"))
    if npoints > MAX_SWEEP_POINTS:  # by size first: a huge sweep is refused before any value is checked
        errors.append((name, "sweep", f"{npoints:,} combinations; at most {MAX_SWEEP_POINTS:,} expected"))
        data["sweep"] = {}
    scen = None
    try:
        scen = Scenario.model_validate(data)
    except ValidationError as e:
        errors += _schema_errors(e, name)
    if scen is not None and scen.as_of is not None:
        try:
            check_as_of(scen.as_of)
        except DataError as e:
            errors.append((name, "as_of", str(e).removeprefix("as_of: ")))
            scen = None
    base = scenario_baseline(scen, baseline) if scen is not None else (baseline or load_baseline())
    errors += _raw_errors(data, name, base)
    if scen is not None:
        errors += _sweep_value_errors(scen, name, errors)
    if errors:
        raise ScenarioError(errors)
    return scen


def load_scenario(path: str | Path, baseline: Baseline | None = None) -> Scenario:
    """Read, resolve ``extends``, validate and freeze one scenario file."""
    path = Path(path)
    data = read_toml(path)
    data = resolve_extends(data, path, str(path), (str(path.resolve()),))
    return _validate(data, str(path), baseline)


def scenario_from_text(text: str, name: str = "<uploaded>", *, base_dir: Path | None = None) -> Scenario:
    """Validate scenario TOML given as text (an upload); ``extends`` is looked up in ``base_dir``."""
    data = parse_toml_text(text, name)
    fake = (base_dir / "_uploaded.toml") if base_dir is not None else None
    data = resolve_extends(data, fake, name, (), confined=True)
    return _validate(data, name)


def scenario_baseline(scenario: Scenario, baseline: Baseline | None = None) -> Baseline:
    """``baseline`` if it is the one ``scenario`` runs on (same as-of date and left-out sources), else that one.

    Callers may pass a baseline they hold; a scenario with its own ``as_of`` still gets its own data.
    """
    key = (scenario.as_of or LEDGER_START, tuple(sorted(set(scenario.leave_out_sources))))
    if baseline is not None and (baseline.as_of, tuple(baseline.left_out)) == key:
        return baseline
    return scenario.baseline()


def country_fields(scenario: Scenario, baseline: Baseline | None = None) -> list[dict[str, Sourced]]:
    """Each country's fields after the scenario's overrides, in baseline order, with provenance.

    The data are the scenario's own (as of its ``as_of``: :func:`scenario_baseline`). An overridden
    value's provenance says which scenario set it.
    """
    baseline = scenario_baseline(scenario, baseline)
    out = []
    for c in baseline.countries:
        fields = dict(c.fields)
        ov = scenario.countries.get(c.iso3)
        if ov is not None:
            for k, v in ov.model_dump(exclude_none=True).items():
                fields[k] = Sourced(value=list(v) if isinstance(v, tuple) else v, origin=f"scenario:{scenario.name}",
                                    assumption=f"set by scenario '{scenario.name}'")
        out.append(fields)
    return out

