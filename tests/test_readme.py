"""The README's commands work when pasted into a shell in the project folder, as a new user would."""

import glob
import os
import re
import shlex
import subprocess
import tomllib

import pytest

from sim.cli import build_parser
from sim.export import check_out_dir
from sim.scenario import load_scenario

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
VENV_BIN = ROOT / ".venv" / "bin"
CHEAP = ("validate", "sources", "--version")
"""Subcommands run for real (quick, write nothing); the others are parsed and their inputs and outputs checked."""


def readme_commands() -> list[str]:
    """Every command line of the README's ```bash blocks, comments stripped."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


COMMANDS = readme_commands()


def test_the_readme_has_commands_and_none_needs_a_command_on_path():
    assert len(COMMANDS) >= 10
    for line in COMMANDS:
        program = shlex.split(line)[0]
        # `reassurance` and `python` are not on a fresh machine's PATH: everything goes through .venv or bash
        assert program in ("bash", ".venv/bin/reassurance", ".venv/bin/python"), line


def argv_of(line: str) -> list[str]:
    """The arguments of a ``.venv/bin/reassurance`` or ``.venv/bin/python -m sim`` line, globs expanded."""
    words = shlex.split(line)
    words = words[3:] if words[0] == ".venv/bin/python" else words[1:]
    if words[:1] == ["-m"]:
        raise AssertionError(line)
    out = []
    for w in words:
        out += sorted(glob.glob(w, root_dir=ROOT)) if any(c in w for c in "*?[") else [w]
    return out


@pytest.mark.parametrize("line", [c for c in COMMANDS if not c.startswith("bash ")])
def test_a_readme_command_is_valid_as_written(line, monkeypatch):
    words = shlex.split(line)
    if words[0] == ".venv/bin/python":
        assert words[1:3] == ["-m", "sim"] and (ROOT / "sim" / "__main__.py").is_file(), line
    else:
        scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
        assert scripts["reassurance"] == "sim.cli:main"  # what setup.sh installs as .venv/bin/reassurance
    argv = argv_of(line)
    if argv == ["--version"]:
        return
    monkeypatch.chdir(ROOT)
    args = build_parser().parse_args(argv)  # exits (SystemExit) on an option the command does not have
    for f in [getattr(args, "scenario", None), *(getattr(args, "files", None) or [])]:
        if f is not None:
            load_scenario(f)  # every scenario named exists and is valid
    if getattr(args, "out", None) is not None:
        assert str(args.out).startswith("results/"), line  # results go to the (git-ignored) results folder
        check_out_dir(args.out)


@pytest.mark.parametrize("line", [c for c in COMMANDS if c.startswith(".venv/bin/reassurance")
                                  and shlex.split(c)[1] in CHEAP])
def test_a_cheap_readme_command_runs_when_pasted(line):
    if not (VENV_BIN / "reassurance").exists():
        pytest.skip(f"{VENV_BIN}/reassurance is not installed here (bash scripts/setup.sh makes it)")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/bin:/bin"  # a fresh shell: no venv on PATH
    done = subprocess.run(["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (line, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout.strip()


def test_the_bash_lines_name_scripts_that_exist():
    for line in COMMANDS:
        words = shlex.split(line)
        if words[0] == "bash":
            assert (ROOT / words[1]).is_file(), line
            if words[2:] == ["--fast"]:
                assert "--fast" in (ROOT / words[1]).read_text(), line

