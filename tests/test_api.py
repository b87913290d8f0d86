"""The public API and the command line's conventions (architecture issue)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_hydro

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


def test_version_is_fast_from_the_shell():
    started = time.perf_counter()
    done = run_hydro("--version")
    elapsed_s = time.perf_counter() - started
    assert done.returncode == 0 and hydro.__version__ in done.stdout
    # a generous bound for a shared machine: the point is no heavy import (a few seconds)
    assert elapsed_s < 2.0, elapsed_s


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


def test_quiet_and_verbose_are_accepted_after_the_subcommand(single_pipe_inp):
    for flag in ("-q", "--quiet", "-v"):
        done = run_hydro("check", single_pipe_inp, "--min-pressure", "30", flag)
        assert done.returncode == 0, (flag, done.stderr)


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
