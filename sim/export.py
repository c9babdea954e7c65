"""Writing outcome tables to a results folder: CSV and Parquet (XLSX on request), with a manifest.

Nothing is half-written: every file of a results folder is first written into a temporary folder beside
it (``.tmp-NAME-PID-*``), and the finished folder is renamed into place (:mod:`sim.atomic`); what a killed
run left beside the folder is removed by the next write. An ``--out`` that is a symbolic link is followed:
the folder it points to is replaced, the link stays. The manifest (``manifest.json``, begun by
:func:`manifest` for every command) records the resolved scenarios, seeds, package versions, code
revision, start and end time, and each table's SHA-256, rows and column types.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim import atomic, words

if TYPE_CHECKING:
    from sim.scenario import Scenario

FORMATS = ("csv", "parquet")
PACKAGES = ("reassurance", "numpy", "pandas", "mesa", "pyarrow", "openpyxl", "pydantic")


MIN_FREE_BYTES = 16 * 1024 * 1024
"""Refuse to start when the disk that would hold the results has less free space than this."""


class OutputPathError(ValueError):
    """An output folder cannot be used: it escapes where it must stay, is not a results folder, or is not writable."""


class OutputWriteError(OSError):
    """Writing a results folder failed part-way (disk full, read-only, gone); nothing half-written is left."""


def _target(out_dir: Path) -> Path:
    """The folder to write: a symbolic link is followed (the link stays and points at the new results)."""
    out_dir = Path(out_dir)
    return out_dir.resolve() if out_dir.is_symlink() else out_dir


def _writable_ancestor(out_dir: Path) -> Path:
    """The nearest existing folder at or above ``out_dir``'s parent; refused if it is a file."""
    for parent in out_dir.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(f"{out_dir}: {parent} is a file, so no folder can be made inside it")
            return parent
    return Path(out_dir.absolute().anchor)


def safe_child(root: Path, name: str) -> Path:
    """``root / name``, refusing any name that would leave ``root`` (``..``, absolute paths, links)."""
    root = Path(root).resolve()
    target = (root / name).resolve()
    if target == root or root not in target.parents:
        raise OutputPathError(f"output {name!r} would be written outside {root}")
    return target


def check_out_dir(out_dir: Path) -> Path:
    """Refuse, before anything runs, an output folder that cannot be used.

    Refused: an existing folder that is not a results folder (it would be replaced whole), a path inside a
    file, a folder holding the current folder, and a place that cannot be written (read-only, no
    permission, or a nearly full disk), so that no computing is lost at the end.
    """
    given = Path(out_dir)
    if given.is_symlink() and not given.exists():
        raise OutputPathError(f"{given} is a symbolic link to {os.readlink(given)}, which does not exist")
    out_dir = _target(given)
    ancestor = _writable_ancestor(out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputPathError(f"{given} exists and is not a folder")
        if any(out_dir.iterdir()) and not (out_dir / "manifest.json").is_file():
            raise OutputPathError(
                f"{given} exists and is not a results folder (no manifest.json); it would be replaced "
                "whole, so choose a new or empty folder")
    cwd = Path.cwd().resolve()
    resolved = out_dir.resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutputPathError(f"{given} holds the current folder; choose a folder inside it")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        why = "is on a read-only file system" if _read_only(ancestor) else "is not writable by you"
        raise OutputPathError(f"cannot write {given}: {ancestor} {why}; nothing was run")
    free = shutil.disk_usage(ancestor).free
    if free < MIN_FREE_BYTES:
        raise OutputPathError(f"cannot write {given}: the disk holding {ancestor} is full ({free:,} bytes free); "
                              "nothing was run")
    return given


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


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


def for_people(df: pd.DataFrame) -> pd.DataFrame:
    r"""A table as people read it in a spreadsheet: ``-1`` months as "never", control characters as escapes.

    Control characters (which a spreadsheet refuses, and which can drive a terminal) are shown as ``\x1b``.
    """
    out = df.copy()
    for col in out.columns:
        if words.NEVER_COLUMNS.match(str(col)) and pd.api.types.is_integer_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col] >= 0, words.NEVER)
        elif out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_cell_text)
    return out


def _cell_text(v: Any) -> Any:
    if not isinstance(v, str):
        return v
    return words.printable(v)


def columns_sheet(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The ``columns`` sheet of tables.xlsx: every sheet's columns and what they mean."""
    rows = [{"sheet": name[:31], "column": str(col),
             "meaning": words.column_meaning(str(col)) or "see docs/outputs.md and docs/analysis.md"}
            for name, df in tables.items() for col in df.columns]
    return pd.DataFrame(rows, columns=["sheet", "column", "meaning"])


COLUMNS_SHEET = "columns"
"""The sheet of tables.xlsx that explains the other sheets' columns."""


def xlsx_bytes(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """All tables in one Excel workbook, one sheet per table (names cut to Excel's 31 characters).

    A ``columns`` sheet says what every column means. Text is stored as text, never as a formula, even
    when it starts with ``=`` (a scenario named ``=1+1`` stays those four characters).
    """
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in {**tables, COLUMNS_SHEET: columns_sheet(tables)}.items():
            for_people(df).to_excel(xw, sheet_name=name[:31], index=False)
        for ws in xw.book.worksheets:  # openpyxl would store any text starting with "=" as a formula
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        cell.data_type = "s"
    return buf.getvalue()


def written_line(folder: Path, tables: Mapping[str, pd.DataFrame], *, formats: tuple[str, ...] = FORMATS,
                 xlsx: bool = False) -> str:
    """The line that says what a results folder holds, file by file kind."""
    kinds = "/".join(f".{f}" for f in formats)
    parts = [f"{', '.join(tables)} ({kinds})"]
    if xlsx:
        parts.append(f"tables.xlsx (one sheet per table, and '{COLUMNS_SHEET}' saying what each column means)")
    return f"Tables written to {folder}/: " + "; ".join([*parts, "manifest.json"])


def write_results(out_dir: Path, tables: Mapping[str, pd.DataFrame], *, manifest: Mapping[str, Any],
                  formats: tuple[str, ...] = FORMATS, xlsx: bool = False) -> Path:
    """Write ``tables`` and a manifest into ``out_dir`` atomically; returns the folder.

    ``manifest`` holds what the caller knows (scenarios, seeds, engine, times); this adds package
    versions, the code revision and each file's SHA-256. An existing folder is replaced only once the new
    one is complete.
    """
    given = check_out_dir(Path(out_dir))
    out_dir = _target(given)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        atomic.remove_leftovers(out_dir)
        tmp = atomic.new_temporary_folder(out_dir)
    except OSError as e:
        raise OutputWriteError(e.errno, f"cannot write {given}: {e.strerror}; nothing was written") from None
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
            files["tables.xlsx"] = {"sha256": hashlib.sha256(data).hexdigest(), "sheets": [*tables, COLUMNS_SHEET]}
        full = dict(manifest)
        full.update({"files": files, "packages": package_versions(), "code_revision": code_revision()})
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2, sort_keys=True, default=str) + "\n")
        atomic.swap_into_place(tmp, out_dir)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            kept = f"the existing {given} is unchanged" if out_dir.exists() else f"{given} was not created"
            reason = e.strerror or str(e)
            if e.errno == errno.ENOSPC:
                reason = "the disk is full"
            raise OutputWriteError(e.errno, f"could not write {given}: {reason}; nothing half-written was left "
                                            f"and {kept}") from None
        raise
    return given


def scenario_record(scenario: Scenario, file: str | Path, **extra: Any) -> dict[str, Any]:
    """A scenario as a manifest names it: name, file as given, hash and seed, ``extra``, and the resolved scenario."""
    return {"name": scenario.name, "file": str(file), "hash": scenario.content_hash(), "seed": scenario.seed,
            **extra, "resolved": scenario.to_toml_dict()}


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed: ``reassurance`` and its arguments (``argv``, default this process's)."""
    return shlex.join(["reassurance", *(sys.argv[1:] if argv is None else argv)])


def manifest(kind: str, scenarios: Sequence[Mapping[str, Any]], *, started: str, command: str | None = None,
             **fields: Any) -> dict[str, Any]:
    """What a command records in its results folder's manifest (:func:`write_results` adds files and versions).

    The one builder of manifests: ``kind`` (``run``, ``batch``, ``timeline``, ``analysis``), the command line,
    the scenarios (:func:`scenario_record`), the command's own ``fields``, and when it started and finished.
    """
    return {"kind": kind, "command": command, "scenarios": list(scenarios), **fields, "started": started,
            "finished": now_iso()}


def now_iso() -> str:
    """The current UTC time, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
