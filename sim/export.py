"""Writing outcome tables to a results folder: CSV and Parquet (XLSX on request), with a manifest.

Nothing is half-written: every file of a results folder is first written into a temporary folder beside
it, and the finished folder is renamed into place. The manifest (``manifest.json``) records the resolved
scenarios, seeds, package versions, code revision, start and end time, and each table's SHA-256, rows
and column types.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

FORMATS = ("csv", "parquet")
PACKAGES = ("reassurance", "numpy", "pandas", "mesa", "pyarrow", "openpyxl", "pydantic")


class OutputPathError(ValueError):
    """An output path escapes the results folder it must stay in."""


def safe_child(root: Path, name: str) -> Path:
    """``root / name``, refusing any name that would leave ``root`` (``..``, absolute paths, links)."""
    root = Path(root).resolve()
    target = (root / name).resolve()
    if target == root or root not in target.parents:
        raise OutputPathError(f"output {name!r} would be written outside {root}")
    return target


def check_out_dir(out_dir: Path) -> Path:
    """Refuse an output folder that exists and is not a results folder (it would be replaced whole)."""
    out_dir = Path(out_dir)
    for parent in out_dir.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(f"{out_dir}: {parent} is a file, so no folder can be made inside it")
            break
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputPathError(f"{out_dir} exists and is not a folder")
        if any(out_dir.iterdir()) and not (out_dir / "manifest.json").is_file():
            raise OutputPathError(
                f"{out_dir} exists and is not a results folder (no manifest.json); it would be replaced "
                "whole, so choose a new or empty folder")
    cwd = Path.cwd().resolve()
    resolved = out_dir.resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutputPathError(f"{out_dir} holds the current folder; choose a folder inside it")
    return out_dir


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def code_revision() -> str:
    """The git commit of the code (with ``+dirty`` if the tree has changes), or ``unknown``."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages results depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def table_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """A table serialised in ``csv`` or ``parquet`` (deterministic for the same table and versions)."""
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False, engine="pyarrow")
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def xlsx_bytes(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """All tables in one Excel workbook, one sheet per table (sheet names cut to Excel's 31 characters)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in tables.items():
            df.to_excel(xw, sheet_name=name[:31], index=False)
    return buf.getvalue()


def write_results(out_dir: Path, tables: Mapping[str, pd.DataFrame], *, manifest: Mapping[str, Any],
                  formats: tuple[str, ...] = FORMATS, xlsx: bool = False) -> Path:
    """Write ``tables`` and a manifest into ``out_dir`` atomically; returns the folder.

    ``manifest`` holds what the caller knows (scenarios, seeds, engine, times); this adds package
    versions, the code revision and each file's SHA-256. An existing folder is replaced only once the new
    one is complete.
    """
    out_dir = check_out_dir(Path(out_dir))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out_dir.name}-", dir=out_dir.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it owner-only; the results folder follows the umask
    try:
        files: dict[str, Any] = {}
        for name, df in tables.items():
            for fmt in formats:
                data = table_bytes(df, fmt)
                fname = f"{name}.{fmt}"
                (tmp / fname).write_bytes(data)
                files[fname] = {"sha256": hashlib.sha256(data).hexdigest(), "rows": len(df),
                                "columns": {c: str(t) for c, t in df.dtypes.items()}}
        if xlsx:
            data = xlsx_bytes(tables)
            (tmp / "tables.xlsx").write_bytes(data)
            files["tables.xlsx"] = {"sha256": hashlib.sha256(data).hexdigest(), "sheets": list(tables)}
        full = dict(manifest)
        full.update({"files": files, "packages": package_versions(), "code_revision": code_revision()})
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2, sort_keys=True, default=str) + "\n")
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".old-{out_dir.name}-{os.getpid()}"
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def now_iso() -> str:
    """The current UTC time, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
