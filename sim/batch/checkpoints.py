"""Checkpoints: completed sweep points kept on disk, so that an interrupted batch can resume.

The sweep points whose runs are all done are checkpointed (Parquet, each point's folder written atomically,
:func:`sim.atomic.replacing_folder`) in a ``.partial-NAME`` folder beside the results folder ``NAME`` when
the batch is interrupted, and as they complete once it has run for a while
(:data:`sim.batch.run.CHECKPOINT_AFTER_SECONDS`). A rerun with the same inputs (same resolved scenario,
replications, engine, tables asked for, code and package versions: :meth:`Checkpoints.key`) reuses those
points and computes the rest, with identical results. The checkpoints are deleted once the results folder
is in place.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from functools import cache
from pathlib import Path

import pandas as pd

from sim import export
from sim.atomic import replacing_folder
from sim.batch.plan import Point

CHECKPOINT_VERSION = 1
"""Raised when what a checkpoint holds changes, so that older ones are not reused."""

SIM_ROOT = Path(__file__).resolve().parents[1]
"""The package's folder (``sim/``), whose code and data the fingerprint covers."""


@cache
def code_fingerprint() -> str:
    """SHA-256 over the package's code and data files: any change to either invalidates checkpoints."""
    root = SIM_ROOT
    h = hashlib.sha256()
    for f in sorted([*root.rglob("*.py"), *(root / "data").glob("*")]):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def checkpoint_dir(out_dir: Path) -> Path:
    """The folder of a batch's checkpoints: ``.partial-NAME`` beside the results folder ``NAME``."""
    out_dir = Path(out_dir)
    return out_dir.parent / f".partial-{out_dir.name}"


class Checkpoints:
    """Completed sweep points' tables on disk (Parquet), keyed by everything their tables depend on."""

    def __init__(self, folder: Path, *, engine: str, months: bool, per_run: bool):
        self.folder = Path(folder)
        versions = export.package_versions()
        self.common = {"version": CHECKPOINT_VERSION, "code": code_fingerprint(), "engine": engine,
                       "months": months, "per_run": per_run,
                       "packages": {k: versions[k] for k in ("python", "numpy", "pandas", "pyarrow")}}

    def key(self, pt: Point) -> str:
        """The checkpoint name of a point: a hash of the resolved scenario, replications and the above."""
        ident = dict(self.common, scenario=pt.scenario.content_hash(), reps=pt.reps)
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]

    def load(self, pt: Point) -> dict[str, pd.DataFrame] | None:
        """The point's tables if a complete checkpoint of it exists, else None."""
        d = self.folder / self.key(pt)
        try:
            meta = json.loads((d / "point.json").read_text())
            return {name: pd.read_parquet(d / f"{name}.parquet", engine="pyarrow") for name in meta["tables"]}
        except (OSError, ValueError, KeyError):
            return None

    def save(self, pt: Point, tables: dict[str, pd.DataFrame]) -> None:
        """Write the point's tables into a temporary folder and rename it into place."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with replacing_folder(export.safe_child(self.folder, self.key(pt))) as tmp:
            for name, df in tables.items():
                df.to_parquet(tmp / f"{name}.parquet", index=False, engine="pyarrow")
            (tmp / "point.json").write_text(json.dumps({"point": pt.label, "tables": list(tables)}) + "\n")

    def clear(self) -> None:
        """Delete every checkpoint."""
        shutil.rmtree(self.folder, ignore_errors=True)
