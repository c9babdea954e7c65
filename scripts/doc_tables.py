"""Write the tables of the docs that are derived from the declarations (sim/concepts.py).

    .venv/bin/python scripts/doc_tables.py           rewrite them in place
    .venv/bin/python scripts/doc_tables.py --check   exit 1 (naming the file) if any is out of date

Each table sits between ``<!-- generated: NAME -->`` and ``<!-- end generated -->`` in its file; the text
around it is written by hand. tests/test_doc_tables.py runs the check.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import concepts, fields  # noqa: E402  (after the path is set: runs from a fresh clone)
from sim.baseline import load_baseline  # noqa: E402
from sim.uncertainty import UNCERTAINTIES  # noqa: E402

BASELINE_SCENARIO = ROOT / "scenarios" / "baseline.toml"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _value(v) -> str:
    if isinstance(v, bool):
        return f"`{str(v).lower()}`"
    return f"`{v}`"


def _drawn_from(path: str) -> str:
    """The declared uncertainty a field pins, as the data give it (options with weights, or a range)."""
    base = load_baseline()
    for u in UNCERTAINTIES:
        if u.pin == path:
            v = base.uncertainties[u.name].value
            if isinstance(v, dict) and u.kind == "level":
                return ", ".join(f"{concepts.LEVELS[k]} {w}" for k, w in v.items())
            if isinstance(v, dict):
                return "; ".join(f"{k}: {lo}–{hi}" for k, (lo, hi) in v.items())
            return f"{v[0]}–{v[1]}"
    return ""


def _baseline_cell(group: str, q: concepts.Quantity, given: dict) -> str:
    drawn = _drawn_from(f"{group}.{q.name}")
    if q.name in given and given[q.name] != concepts.UNCERTAIN:
        text = _value(given[q.name])
    elif q.name in given or q.default == concepts.UNCERTAIN:
        text = f"`{concepts.UNCERTAIN}`" + ("" if q.name in given else " (not set)")
    elif q.default == ():
        text = "none"
    else:
        text = "not set"
    return f"{text}: drawn from {drawn}" if drawn and (q.name not in given or given[q.name] == "uncertain") \
        else text


def _scenario_table(group: str, key: str, quantities: tuple[concepts.Quantity, ...]) -> str:
    """A table of a scenario's ``[group]``: name, values, the baseline scenario's value, what each stands for."""
    given = tomllib.loads(BASELINE_SCENARIO.read_text(encoding="utf-8")).get(group, {})
    rows = [f"| {key} | values | baseline | what it stands for |", "|---|---|---|---|"]
    rows += [f"| `{q.name}` | {_cell(fields.values_words(q))} | {_cell(_baseline_cell(group, q, given))} | "
             f"{_cell(q.text)} |" for q in quantities]
    return "\n".join(rows)


def levers_table() -> str:
    """Scenario levers (``[levers]``)."""
    return _scenario_table("levers", "lever", concepts.LEVERS)


def thresholds_table() -> str:
    """Thresholds (``[thresholds]``)."""
    return _scenario_table("thresholds", "key", concepts.THRESHOLDS)


def countries_table() -> str:
    """Per-country overrides: field, values, meaning."""
    rows = ["| field | values | meaning |", "|---|---|---|"]
    rows += [f"| `{q.name}` | {_cell(fields.values_words(q))} | {_cell(q.text)} |" for q in concepts.OVERRIDE_FIELDS]
    return "\n".join(rows)


def conditions_table() -> str:
    """Conditions: bit value, name, the components it binds, what it means, and where the binding comes from."""
    rows = ["| bit | name | binds | what it means | which components, from |", "|---|---|---|---|---|"]
    for c in concepts.CONDITIONS_DECLARED:
        src = " ".join(x for x in (c.source or "", f"\"{c.quote}\"" if c.quote else "") if x)
        why = "; ".join(x for x in (src, f"assumption: {c.assumption}" if c.assumption else "", c.note or "") if x)
        rows.append(f"| {c.bit} | `{c.name}` | {', '.join(c.binds)} | {_cell(c.text)} ({_cell(c.label)}) | "
                    f"{_cell(why)} |")
    return "\n".join(rows)


TABLES = {
    "scenarios/README.md": {"levers": levers_table, "thresholds": thresholds_table, "countries": countries_table},
    "docs/model.md": {"conditions": conditions_table},
}
"""File -> table name -> the function that writes it."""

_BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def render(text: str, tables: dict) -> str:
    """``text`` with every generated block rewritten; a block of an unknown name, or a table missing, fails."""
    seen = set()

    def sub(m: re.Match) -> str:
        name = m.group("name")
        if name not in tables:
            raise SystemExit(f"unknown generated table {name!r}; expected one of {sorted(tables)}")
        seen.add(name)
        return f"{m.group(1)}{tables[name]()}\n{m.group(4)}"

    out = _BLOCK.sub(sub, text)
    if missing := set(tables) - seen:
        raise SystemExit(f"no block for {sorted(missing)}: add <!-- generated: NAME --> ... <!-- end generated -->")
    return out


def main(argv: list[str]) -> int:
    """Rewrite the tables, or with ``--check`` report the files whose tables are out of date."""
    check = "--check" in argv
    stale = []
    for rel, tables in TABLES.items():
        path = ROOT / rel
        text = path.read_text(encoding="utf-8")
        new = render(text, tables)
        if new != text:
            stale.append(rel)
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run: .venv/bin/python scripts/doc_tables.py", file=sys.stderr)
        return 1
    if not check:
        print("rewritten: " + (", ".join(stale) or "nothing (all current)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
