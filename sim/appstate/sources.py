"""Where every value comes from: the articles (publisher, title, date, link) and a country's values with their sources.

No Streamlit.
"""

from __future__ import annotations

import urllib.parse

import pandas as pd

from sim.appstate.labels import FIELD_LABELS, plain_value
from sim.baseline import Baseline, load_baseline
from sim.scenario import Scenario, country_fields

SOURCE_LINKS: dict[str, str] = {
    "A003": "https://www.german-foreign-policy.com/en/news/detail/10104",
    "A004": "https://responsiblestatecraft.org/ukraine-security-guarantees",
}
"""Web addresses of the articles whose address is known; the others are linked to a search for their title."""


def article_list(baseline: Baseline | None = None) -> list[dict[str, str]]:
    """The articles the baseline cites, oldest first: ``id``, ``publisher``, ``title``, ``date``, ``link``."""
    baseline = baseline or load_baseline()
    out = []
    for sid, src in baseline.sources.items():
        if src.get("kind") != "article":
            continue
        query = f"\"{src.get('title', '')}\" {src.get('publisher', '')}"
        link = SOURCE_LINKS.get(sid) or "https://duckduckgo.com/?q=" + urllib.parse.quote_plus(query)
        out.append({"id": sid, "publisher": str(src.get("publisher", "")), "title": str(src.get("title", "")),
                    "date": str(src.get("date", "")), "link": link, "direct": str(sid in SOURCE_LINKS)})
    return sorted(out, key=lambda a: (a["date"], a["id"]))


def source_lines(prov: pd.DataFrame) -> list[str]:
    """A country's provenance rows (:func:`provenance_rows`) as plain lines: label, value, where from, quote."""
    lines = []
    for row in prov.itertuples():
        where = {"assumption": "an assumption", "scenario": "set by the scenario"}.get(row.kind, row.source)
        quote = f" — “{row.quote}”" if row.quote else ""
        why = f" — {row.why}" if row.why else ""
        lines.append(f"**{row.label}**: {row.in_words} · {where}{quote}{why}")
    return lines


def provenance_rows(scenario: Scenario, iso3: str, baseline: Baseline | None = None) -> pd.DataFrame:
    """A country's fields after ``scenario``'s overrides, each with where it comes from.

    Columns: ``field``, ``label`` and ``in_words`` (the field and its value in plain words), ``value``,
    ``raw`` (the value itself), ``kind`` (article, reference, assumption or scenario), ``source``
    (id, publisher, title, date), ``quote``, ``why`` (assumption or note), ``origin`` (path in the data).
    """
    baseline = baseline or load_baseline()
    idx = baseline.iso3.index(iso3)
    c = baseline.countries[idx]
    fields = dict(country_fields(scenario, baseline)[idx])
    fields["active_personnel"] = c.active_personnel
    fields["mine_vessels"] = c.mine_vessels
    rows = []
    for name, s in fields.items():
        src = baseline.sources.get(s.source or "", {})
        if s.origin.startswith("scenario:"):
            kind = "scenario"
        elif s.source:
            kind = src.get("kind", "source")
        else:
            kind = "assumption"
        cite = ""
        if s.source:
            cite = f"{s.source}: {src.get('publisher', '')}, “{src.get('title', '')}” ({src.get('date', '')})"
        value = s.value
        if isinstance(value, list | tuple):
            value = "–".join(f"{v:,}" if isinstance(v, int) else str(v) for v in value)
        rows.append({"field": name, "label": FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
                     "value": str(value), "in_words": plain_value(name, s.value),
                     "kind": kind, "source": cite, "quote": s.quote or "",
                     "why": s.assumption or s.note or "", "origin": s.origin})
    return pd.DataFrame(rows)
