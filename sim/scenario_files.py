"""Reading scenario files: TOML text bounded in size and nesting, ``extends`` resolved, errors named.

Nothing in a file is executed; every problem is a :class:`ScenarioError` naming the file, the field and
what was expected. The schema and the checks across fields are in :mod:`sim.scenario`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sim.words import printable

MAX_FILE_BYTES = 256 * 1024
MAX_NESTING = 6
MAX_EXTENDS_DEPTH = 8


class ScenarioError(ValueError):
    """A scenario is invalid. ``errors`` lists ``(file, field, message)`` for every problem found."""

    def __init__(self, errors: list[tuple[str, str, str]]):
        self.errors = errors
        # printable: a key or file name holding terminal escape codes is shown, never obeyed
        lines = [printable(f"{f}: {fld}: {msg}" if fld else f"{f}: {msg}") for f, fld, msg in errors]
        super().__init__("invalid scenario:\n  " + "\n  ".join(lines))


def _depth(obj: Any, level: int = 0) -> int:
    if isinstance(obj, dict):
        return max([_depth(v, level + 1) for v in obj.values()] or [level + 1])
    if isinstance(obj, list):
        return max([_depth(v, level + 1) for v in obj] or [level + 1])
    return level


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "sweep":
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Read one scenario file (bounded in size) and parse it (:func:`parse_toml_text`)."""
    name = str(path)
    try:
        if not path.is_file():
            what = "a folder" if path.is_dir() else ("not found" if not path.exists() else "not a regular file")
            raise ScenarioError([(name, "", f"cannot read the file ({what}); a TOML scenario file was expected")])
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # bounded even if the size on disk lies
    except (OSError, ValueError) as e:
        raise ScenarioError([(name, "", f"cannot read the file ({getattr(e, 'strerror', None) or e})")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([(name, "", f"file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        return parse_toml_text(raw.decode("utf-8"), name)
    except UnicodeDecodeError:
        raise ScenarioError([(name, "", "not UTF-8 text; a TOML scenario file was expected")]) from None


def parse_toml_text(text: str, name: str) -> dict[str, Any]:
    """Parse TOML text (bounded in size and nesting), raising :class:`ScenarioError` naming ``name``."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise ScenarioError([(name, "", f"text is larger than {MAX_FILE_BYTES} bytes")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError([(name, "", f"not valid TOML: {e}")]) from None
    except RecursionError:
        raise ScenarioError([(name, "", f"nested deeper than {MAX_NESTING} levels")]) from None
    if _depth(data) > MAX_NESTING:
        raise ScenarioError([(name, "", f"nested deeper than {MAX_NESTING} levels")])
    return data


def resolve_extends(data: dict[str, Any], path: Path | None, name: str, seen: tuple[str, ...], *,
                     confined: bool = False) -> dict[str, Any]:
    """``data`` laid over the file it ``extends`` (and that over its own), key by key.

    ``confined``: an upload, which may only extend a shipped scenario by its file name.
    """
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str):
        raise ScenarioError([(name, "extends", f"got {parent_ref!r}; expected a file name (a string)")])
    if confined and (Path(parent_ref).name != parent_ref or not parent_ref.endswith(".toml")):
        raise ScenarioError([(name, "extends", f"got {parent_ref!r}; an uploaded scenario may only extend a "
                                               "shipped scenario by its file name, e.g. \"baseline.toml\"")])
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError([(name, "extends", f"chain longer than {MAX_EXTENDS_DEPTH} files")])
    base_dir = path.parent if path is not None else Path("scenarios")
    try:
        parent_path = (base_dir / parent_ref).resolve()
        is_file = parent_path.is_file()
    except (OSError, ValueError) as e:  # a NUL byte, a name longer than the system allows, a loop of links
        why = getattr(e, "strerror", None) or str(e)
        raise ScenarioError([(name, "extends", f"got {parent_ref!r}; not a file name this system can open ({why}); "
                                               "expected a scenario file such as \"baseline.toml\"")]) from None
    if str(parent_path) in seen:
        raise ScenarioError([(name, "extends", f"{parent_ref!r} extends itself (a cycle)")])
    if not is_file:
        raise ScenarioError([(name, "extends", f"{parent_ref!r}: no such file next to {name}")])
    parent = read_toml(parent_path)
    parent = resolve_extends(parent, parent_path, str(parent_path), (*seen, str(parent_path)), confined=confined)
    child = {k: v for k, v in data.items() if k != "extends"}
    merged = _deep_merge({k: v for k, v in parent.items() if k not in ("name", "description", "sweep")}, child)
    return merged


def as_tuples(obj: Any) -> Any:
    """TOML arrays as tuples (the schema's sequences are tuples, validated strictly)."""
    if isinstance(obj, dict):
        return {k: as_tuples(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return tuple(as_tuples(v) for v in obj)
    return obj
