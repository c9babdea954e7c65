"""The baseline data: every value has provenance, every claim is encoded, quotes are real and short."""

import re
import unicodedata

import pytest

from sim import baseline as bl
from sim import rules
from sim.baseline import COUNTRY_FIELDS, OPTIONAL_FIELDS, DataError, load_baseline
from sim.uncertainty import UNCERTAINTIES

from .conftest import SOURCES

CLAIMS = [f"C{i:02d}" for i in range(1, 30)]


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.replace("\u2019", "'")
    text = re.sub(r"[\u2018\u2019`]", "'", text)
    text = re.sub(r"\s+", " ", text)
    # quotation marks inside a quote are dropped on both sides: a quote may paraphrase the article's own quoting
    return text.replace("\u201c", "").replace("\u201d", "").replace('"', "").lower()


def _article_texts():
    out = {}
    for f in SOURCES.glob("*.txt"):
        raw = f.read_text(encoding="utf-8")
        raw = raw.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
        raw = raw.replace("\u2013", "-").replace("\u2014", "-")
        out[f.name[:3]] = _norm(raw)
    return out


def all_sourced(base):
    for k, s in base.force.items():
        yield f"force.{k}", s
    for k, s in base.uncertainties.items():
        yield f"uncertainties.{k}", s
    for k, s in base.conditions.items():
        yield f"conditions.{k}", s
    for k, s in base.backstop.items():
        yield f"backstop_levels.{k}", s
    for pname, prof in base.profiles.items():
        for k, s in prof.items():
            yield f"profiles.{pname}.{k}", s
    for c in base.countries:
        for k, s in c.fields.items():
            yield f"countries.{c.iso3}.{k}", s
        yield f"capacity.{c.iso3}.active", c.active_personnel
        yield f"capacity.{c.iso3}.vessels", c.mine_vessels


def test_every_value_has_provenance():
    base = load_baseline()
    n = 0
    for path, s in all_sourced(base):
        n += 1
        assert s.source or s.assumption, path
        if s.source:
            assert s.source in base.sources, path
            if base.sources[s.source]["kind"] == "article":
                assert s.quote and len(s.quote.split()) <= bl.ARTICLE_QUOTE_MAX_WORDS, path
        if s.assumption:
            assert len(s.assumption) > 20, f"{path}: an assumption needs a reason, got {s.assumption!r}"
        if s.source and base.sources[s.source]["kind"] == "report":
            assert s.quote and len(s.quote.split()) <= bl.ARTICLE_QUOTE_MAX_WORDS, path
    assert n > 500


def test_reports_say_what_they_are_and_weak_ones_are_flagged():
    """Every published report has publisher, title, date, URL and kind; a value resting on an aggregator or on
    state-controlled media alone says so in its note."""
    base = load_baseline()
    reports = {k: v for k, v in base.sources.items() if v["kind"] == "report"}
    assert len(reports) >= 10
    for sid, src in reports.items():
        assert src["url"].startswith(("https://", "http://")) and src["quality"] in bl.SOURCE_QUALITIES, sid
    weak = 0
    for path, s in all_sourced(base):
        if s.source in reports and reports[s.source]["quality"] in ("aggregator", "state_media"):
            weak += 1
            assert s.note and "lagged" in s.note, f"{path}: rests on a weak source ({s.source}) without a flag"
    assert weak >= 3


def test_the_baseline_uses_statements_of_its_period_only():
    """The baseline is as of 5 September 2025: no source it cites is dated later."""
    base = load_baseline()
    cited = {s.source for _, s in all_sourced(base) if s.source}
    for sid in cited:
        date = base.sources[sid]["date"]
        if date[:4].isdigit():
            assert date <= "2025-09-05", f"{sid} is dated {date}, after the baseline's period"


def test_expected_pledgers_match_the_26_who_pledged():
    """A001: "26 countries have pledged"; the willingness of the possible contributors adds up to that."""
    base = load_baseline()
    expected = sum(c["p_participate"] for c in base.countries if c["role"] == "contributor")
    assert base.force["pledged_countries"].value == 26
    assert abs(expected - 26) < 0.5, expected


def test_conditions_about_troops_bind_land_only():
    base = load_baseline()
    assert set(base.conditions) == set(rules.CONDITIONS.values())
    for name in ("us_backstop", "un_framework", "troops_decision", "border_priority", "lead_nations"):
        assert base.conditions[name].value == ["land"], name
    for name in ("ceasefire", "willingness", "government_fell"):
        assert base.conditions[name].value == ["land", "air", "sea"], name


def test_every_declared_uncertainty_has_data():
    base = load_baseline()
    assert set(base.uncertainties) == {u.name for u in UNCERTAINTIES}
    assert set(base.uncertainties["us_backstop"].value) >= {"intelligence", "command_and_control"}


def test_every_country_has_every_field_and_capacity():
    base = load_baseline()
    assert 30 <= len(base.countries) <= 40
    for iso in ("USA", "UKR", "RUS", "HUN", "SVK", "FRA", "GBR", "DEU", "ITA", "POL", "TUR", "EST", "LTU"):
        assert iso in base.iso3
    for c in base.countries:
        assert set(c.fields) - OPTIONAL_FIELDS == set(COUNTRY_FIELDS) - OPTIONAL_FIELDS, c.iso3
        assert c.active_personnel.value > 0 and c.active_personnel.source == "GFP2025"


def test_article_quotes_appear_in_the_cited_article():
    base = load_baseline()
    texts = _article_texts()
    cited = {s.source[1:] for _, s in all_sourced(base) if s.source and s.source.startswith("A") and s.quote}
    if missing := sorted(cited - set(texts)):
        pytest.skip(f"the article texts are not here ({SOURCES} lacks {', '.join(missing)}; they are not "
                    "shipped with the project): set REASSURANCE_SOURCES to their folder to check the quotes")
    checked = 0
    for path, s in all_sourced(base):
        if s.source and s.source.startswith("A") and s.quote:
            body = texts[s.source[1:]]
            for part in re.split(r"\s*\.\.\.\s*", s.quote):
                assert _norm(part) in body, f"{path}: quote not found in {s.source}: {part!r}"
            checked += 1
    assert checked > 50


def test_every_claim_is_encoded_and_resolves():
    base = load_baseline()
    assert sorted(base.claims) == CLAIMS
    scenario_levers = {"air_mission", "ceasefire_month", "us_backstop", "russia_stance", "incident_rate"}
    for cid, paths in base.claims.items():
        assert paths, cid
        for p in paths:
            if p.startswith("scenario:"):
                assert p.removeprefix("scenario:") in scenario_levers
            else:
                s = base.resolve(p)
                assert s.source or s.assumption
    # country claims listed on the country itself match the claims table
    for c in base.countries:
        for cid in c.claims:
            assert any(p.startswith(f"countries.{c.iso3}.") or p.startswith("profiles.")
                       for p in base.claims[cid]), (c.iso3, cid)


def test_articles_picture_is_encoded():
    base = load_baseline()
    for iso in ("USA", "DEU", "ITA", "POL"):
        assert base.country(iso)["land_stance"] == "ruled_out", iso
    assert base.country("FRA")["is_lead"] and base.country("GBR")["is_lead"]
    assert base.country("ITA")["requires_un_framework"]
    assert base.country("POL")["border_priority"]
    assert base.country("DEU")["mandate_delay_months"] > 0
    assert base.country("GBR")["p_troops"] < 1
    assert base.country("TUR")["p_troops"] < 1
    assert base.country("FRA")["government_fall_hazard"] > 0
    assert base.force["land_threshold"].value == 30000
    assert base.backstop["offered"].value == "command_and_control"
    assert base.backstop["not_promised"].source == "A004"
    assert base.backstop["asked_for"].value == "air_cover"


@pytest.mark.parametrize("change,expect", [
    ({"source": "A999"}, "conditions.momentum: source 'A999' is not in sources.toml"),
    ({"source": "A003", "quote": None, "assumption": None}, "conditions.momentum: an article source needs a short"),
    ({"assumption": None}, "conditions.momentum: give a `source` or an `assumption`"),
])
def test_a_conditions_provenance_is_checked_as_the_datas(monkeypatch, change, expect):
    """Which components a condition binds is declared with it (sim/concepts.py), and checked like data."""
    from dataclasses import replace

    from sim import concepts

    bad = tuple(replace(c, **change) if c.name == "momentum" else c for c in concepts.CONDITIONS_DECLARED)
    bl.load_baseline.cache_clear()
    monkeypatch.setattr(concepts, "CONDITIONS_DECLARED", bad)
    _fails_loudly(monkeypatch, expect)


def _fails_loudly(monkeypatch, expect):
    """Loading the (patched) data raises a DataError saying ``expect``; the patch is undone either way."""
    try:
        with pytest.raises(DataError, match=re.escape(expect)):
            bl.load_baseline()
    finally:
        monkeypatch.undo()
        bl.load_baseline.cache_clear()


def _patched_loader(monkeypatch, old, new):
    real = bl._read_text

    def fake(name):
        text = real(name)
        if name == "countries.toml":
            assert old in text
            text = text.replace(old, new, 1)
        return text

    bl.load_baseline.cache_clear()
    monkeypatch.setattr(bl, "_read_text", fake)


@pytest.mark.parametrize("old,new,expect", [
    ('land_threshold = { value = 30000, source = "A000",', 'land_threshold = { value = 30000, source = "A999",',
     "force.land_threshold: source 'A999'"),
    ('p_troops = { value = 0.7, source = "A002"', 'p_troops = { value = 1.7, source = "A002"',
     "countries.GBR.p_troops: got 1.7"),
    ('sea_threshold = { value = [3, 6]', 'sea_threshold = { value = [6, 3]', "uncertainties.sea_threshold: got [6, 3]"),
    ('us_backstop = { value = { intelligence = 0.3,', 'us_backstop = { value = { intel = 0.3,',
     "uncertainties.us_backstop: got"),
    ('\n[uncertainties]\n', '\n[conditions]\nmomentum = { value = ["land"], assumption = "x" }\n[uncertainties]\n',
     "conditions: the components each condition binds are declared with the condition, in sim/concepts.py"),
    ('p_troops = { value = 0.7, source = "A002"', 'p_troops = { value = 0.7, source = "A002", air = [0, 1001]',
     "unknown keys ['air']"),
    ('[countries.GBR]\n', '[countries.GBR]\nair = { value = [0, 1001], assumption = "x" }\n',
     "countries.GBR.air: got [0, 1001]; expected [min, max] whole numbers of aircraft, each >= 0, <= 1,000"),
    ('build_up_months = { value = 6, assumption = "The articles',
     'build_up_months = { value = 6, nothing = "The articles', "unknown keys ['nothing']"),
    ('posture = { value = "rear", source = "A003", quote', 'posture = { value = "rear", quote',
     "force.posture: give a `source` or an `assumption`"),
])
def test_bad_data_fails_loudly_naming_the_field(monkeypatch, old, new, expect):
    _patched_loader(monkeypatch, old, new)
    _fails_loudly(monkeypatch, expect)
