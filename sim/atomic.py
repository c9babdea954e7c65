"""Nothing half-written: a folder is built under a temporary name beside its place and swapped in whole.

:func:`replacing_folder` is the one way the package writes a folder of files (a results folder,
:mod:`sim.export`; a batch's checkpoint of a sweep point, :mod:`sim.batch.checkpoints`). The new folder is
filled as ``.tmp-NAME-PID-XXXXXXXX`` beside ``NAME``; when it is complete the existing ``NAME`` (if any) is
renamed to ``.old-NAME-PID``, the new one renamed into place and the old one deleted. Until that rename, a
reader sees the previous folder untouched; if the process is killed in between, what it left is removed
by the next write of the same folder (:func:`remove_leftovers`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether a process of this id exists (another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def remove_leftovers(final: Path) -> None:
    """Remove the ``.tmp-NAME-PID-*`` and ``.old-NAME-PID`` folders left by writes whose process is gone."""
    final = Path(final)
    rx = re.compile(rf"^\.(tmp|old)-{re.escape(final.name)}-(\d+)(-.*)?$")
    try:
        entries = list(final.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = rx.match(entry.name)
        if m and int(m.group(2)) != os.getpid() and not pid_alive(int(m.group(2))) and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def new_temporary_folder(final: Path) -> Path:
    """An empty folder ``.tmp-NAME-PID-XXXXXXXX`` beside ``final`` (whose parent must exist)."""
    final = Path(final)
    return Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-{os.getpid()}-", dir=final.parent))


def swap_into_place(tmp: Path, final: Path) -> None:
    """Rename the complete folder ``tmp`` to ``final``, replacing an existing ``final`` whole."""
    old = None
    if final.exists():
        old = final.parent / f".old-{final.name}-{os.getpid()}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def replacing_folder(final: Path) -> Iterator[Path]:
    """Yield a new empty folder beside ``final``; on leaving the block it replaces ``final`` whole.

    If the block raises (or the swap fails), the temporary folder is deleted and ``final`` is as it was.
    Leftovers of earlier writes of ``final`` by processes now gone are removed first.
    """
    final = Path(final)
    remove_leftovers(final)
    tmp = new_temporary_folder(final)
    try:
        yield tmp
        swap_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
