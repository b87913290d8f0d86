"""The public API and the command line's conventions (architecture issue)."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, hydro_command, run_hydro

import hydro
from hydro.cli import COMMANDS, build_parser

#: The engineer's verbs every notebook user reaches from ``import hydro``.
VERBS = [
    "read_network",
    "write_network",
    "read_catalog",
    "read_villages",
    "project_demand",
    "apply_demand",
    "size_network",
    "run_simulation",
    "check_compliance",
    "check_network",
    "design_storage",
    "delivered_service",
    "load_study",
    "run_study",
    "write_outputs",
]


@pytest.mark.parametrize("name", VERBS)
def test_each_verb_is_public_with_a_numpy_docstring(name):
    obj = getattr(hydro, name)
    assert name in hydro.__all__
    doc = inspect.getdoc(obj) or ""
    for section in ("Parameters\n----------", "Returns\n-------", "Examples\n--------"):
        assert section in doc, f"hydro.{name}: no {section.splitlines()[0]} section"
    assert ">>>" in doc


def test_import_hydro_is_light():
    code = "import sys, hydro; print('wntr' in sys.modules, 'pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"], done.stdout + done.stderr


def test_version_answers_without_heavy_imports():
    code = (
        "import sys; from hydro.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('wntr', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().endswith("[]"), done.stdout + done.stderr
    assert done.stdout.startswith(f"hydro {hydro.__version__}")


#: Packages whose import takes seconds: ``hydro --version`` and ``--help`` must not load them.
HEAVY = ("wntr", "pandas", "scipy", "matplotlib", "numpy", "networkx")


def modules_imported(*args: str) -> set[str]:
    """Top-level packages imported by the ``hydro`` console script run with ``args``
    (Python's own import log, ``PYTHONPROFILEIMPORTTIME``: no clock read by the test).
    """
    done = subprocess.run(
        [*hydro_command(), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", done.stderr, re.M)
    assert "hydro" in names  # the log was read
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_from_the_shell_import_nothing_heavy(args):
    # the console script, as a user's shell starts it: the answer comes before any heavy import
    assert sorted(modules_imported(*args) & set(HEAVY)) == []


def test_python_dash_m_hydro_is_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "hydro", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0 and done.stdout.startswith("hydro ")


def test_every_command_is_registered_once_and_has_help_without_stray_percent():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices
    assert len(choices) == len(COMMANDS)
    for name, sub in choices.items():
        text = sub.format_help()
        assert "%%" not in text, name
        assert "-q, --quiet" in text and "-v, --verbose" in text, name


@pytest.mark.parametrize(
    ("flag", "attribute"), [("-q", "quiet"), ("--quiet", "quiet"), ("-v", "verbose"),
                            ("--verbose", "verbose")]
)  # fmt: skip
def test_quiet_and_verbose_are_read_after_the_subcommand_as_before(flag, attribute):
    args = ["check", "net.inp", "--min-pressure", "30"]
    for argv in ([*args, flag], [flag, *args]):
        parsed = build_parser().parse_args(argv)
        assert getattr(parsed, attribute) is True, argv
        other = "verbose" if attribute == "quiet" else "quiet"
        assert getattr(parsed, other) is False, argv


def test_verbose_after_the_subcommand_logs_and_keeps_the_results(single_pipe_inp):
    args = ("check", single_pipe_inp, "--min-pressure", "30")
    plain, verbose = run_hydro(*args), run_hydro(*args, "-v")
    assert plain.returncode == verbose.returncode == 0
    assert "verdict: COMPLIANT" in plain.stdout and verbose.stdout == plain.stdout
    assert plain.stderr == "" and verbose.stderr != ""  # debug lines on stderr only


def test_misspelt_option_and_command_get_did_you_mean(single_pipe_inp):
    done = run_hydro("check", single_pipe_inp, "--min-presure", "30")
    assert done.returncode == 2
    assert "did you mean '--min-pressure'?" in done.stderr
    done = run_hydro("chek", single_pipe_inp)
    assert done.returncode == 2
    assert "did you mean 'check'?" in done.stderr


def test_a_study_folder_without_its_study_file_is_named(tmp_path):
    # a folder is read as FOLDER/study.toml (a real run from a folder: tests/test_study.py)
    done = run_hydro("run", tmp_path)
    assert done.returncode == 1
    assert f"{tmp_path / 'study.toml'}: no such study file" in done.stderr
