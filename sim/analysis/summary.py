"""What the analyses say, in a few plain sentences (the command line prints them above the statistics)."""

from __future__ import annotations

import contextlib
from typing import Any

from sim.baseline import load_baseline
from sim.concepts import lever
from sim.uncertainty import declared


def factor_words(name: str) -> str:
    """A sensitivity factor (:func:`sim.analysis.sensitivity.default_factors`) in words.

    Read from the declarations: a declared uncertainty's label (:mod:`sim.uncertainty`), a lever's label
    (:mod:`sim.concepts`), and for the per-country factors the country's name; never the factor's code.
    """
    with contextlib.suppress(KeyError):
        return declared(name).label
    kind, _, iso = name.rpartition("_")
    country = {c.iso3: c.name for c in load_baseline().countries}.get(iso)
    per_country = {"willingness": f"whether {country} takes part", "troops": f"whether {country} sends troops",
                   "fall_hazard": f"the risk that {country}'s government falls"}
    if country and kind in per_country:
        return per_country[kind]
    if name == "willingness_uncertain":
        return "whether the countries not sure to take part do"
    with contextlib.suppress(KeyError):
        label = lever(name).label
        return label[:1].lower() + label[1:]
    return name.replace("_", " ")


def plain_summary(res: Any) -> list[str]:
    """What the analyses say in a few plain sentences, led by where the threshold stands.

    Then what it would take, what matters most and who makes the difference; the statistics follow below it.
    """
    lines = ["In short:"]
    gap = res.tables.get("gap_summary")
    if gap is not None and len(gap):
        g = gap.iloc[0]
        unit = "troops" if g.component == "land" else g.component
        lines.append(f"- Now: the {g.component} threshold of {g.threshold:,.0f} {unit} holds with probability "
                     f"{g.p_met_before:.0%}.")
        if g.found:
            lines.append(f"- What it would take to reach {g.target:.0%} ({g.p_met_after:.0%} when tried): "
                         + "; ".join(res.tables["gap_plan"].change) + ".")
        else:
            lines.append(f"- No combination of the allowed changes tried reaches {g.target:.0%}.")
    sobol = res.tables.get("sobol")
    if sobol is not None and sobol.ST.notna().any():
        top = sobol.sort_values("ST", ascending=False).head(3)
        first = top.iloc[0]
        lines.append(f"- What matters most: {factor_words(first.factor)} (behind about {min(first.ST, 1):.0%} of "
                     "the ups and downs of the probability)"
                     + (", then " + " and ".join(factor_words(f) for f in top.factor.iloc[1:]) if len(top) > 1
                        else "") + ".")
    piv = res.tables.get("pivotal")
    if piv is not None and len(piv):
        carriers = piv[piv.player & (piv.shapley > 0)].sort_values("shapley", ascending=False)
        if len(carriers):
            lines.append("- Who makes the difference: " + ", ".join(
                f"{r.country} ({r.shapley_share:.0%})" for r in carriers.head(4).itertuples()) + " (Shapley shares).")
        else:
            lines.append("- Who makes the difference: nobody, as the scenario stands: no group of the countries "
                         "that can contribute reaches the threshold.")
    return lines if len(lines) > 1 else []
