"""The tables of the docs derived from the declarations (sim/concepts.py) are the ones committed."""

import dataclasses
import importlib.util
import subprocess
import sys

from sim import concepts

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("doc_tables", ROOT / "scripts" / "doc_tables.py")
doc_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(doc_tables)


def test_the_committed_tables_are_the_generated_ones():
    for rel, tables in doc_tables.TABLES.items():
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert doc_tables.render(text, tables) == text, f"{rel} is out of date: run scripts/doc_tables.py"


def test_a_changed_declaration_shows_in_the_table(monkeypatch):
    """The check can fail: a lever's bounds changed in its declaration make scenarios/README.md stale."""
    rel = "scenarios/README.md"
    text = (ROOT / rel).read_text(encoding="utf-8")
    changed = tuple(dataclasses.replace(q, high=12.0) if q.name == "rotation_ratio" else q for q in concepts.LEVERS)
    monkeypatch.setattr(concepts, "LEVERS", changed)
    new = doc_tables.render(text, doc_tables.TABLES[rel])
    assert new != text and "| `rotation_ratio` | ratio, 1–12 |" in new


def test_the_check_command_passes():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "doc_tables.py"), "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
