"""Parameters: typed and checked before anything runs; commands quote every value."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from headwater.projects.command import build_argv, render_shell_command
from headwater.projects.params import ResolvedParameters, parse_param_list, resolve_parameters
from headwater.projects.spec import EntryPoint, ProjectError


def entry(command: str = "python t.py", **parameters) -> EntryPoint:
    return EntryPoint.model_validate({"name": "main", "command": command, "parameters": parameters})


def resolve(ep: EntryPoint, given: dict, project_dir: Path, cwd: Path | None = None, download=None):
    def no_download(uri, index):
        raise AssertionError(f"unexpected download of {uri}")

    return resolve_parameters(ep, given, project_dir=project_dir, download=download or no_download, cwd=cwd)


def test_param_list_splits_on_the_first_equals():
    assert parse_param_list(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ProjectError, match="NAME=VALUE"):
        parse_param_list(["novalue"])


@pytest.mark.parametrize("kind, bad", [("float", "abc"), ("float", "1,5"), ("int", "1.5"), ("int", "ten")])
def test_non_numeric_value_names_the_parameter(tmp_path, kind, bad):
    with pytest.raises(ProjectError) as err:
        resolve(entry(lr={"type": kind}), {"lr": bad}, tmp_path)
    assert "'lr'" in str(err.value) and repr(bad) in str(err.value)


def test_numbers_reach_the_command_exactly_as_given(tmp_path):
    got = resolve(entry(lr={"type": "float"}, n={"type": "int"}), {"lr": "1e-3", "n": "007"}, tmp_path)
    assert got.declared == {"lr": "1e-3", "n": "007"}


def test_missing_required_parameters_are_all_named(tmp_path):
    with pytest.raises(ProjectError) as err:
        resolve(entry(a="string", b={"type": "int"}, c={"default": "x"}), {}, tmp_path)
    assert "'a'" in str(err.value) and "'b'" in str(err.value) and "'c'" not in str(err.value)


def test_defaults_extras_and_logged_values(tmp_path):
    got = resolve(entry(alpha={"type": "float", "default": 0.5}, name="string"), {"name": "x", "extra": "7"}, tmp_path)
    assert got.declared == {"alpha": "0.5", "name": "x"}
    assert got.extra == {"extra": "7"}
    assert got.logged == {"alpha": "0.5", "name": "x", "extra": "7"}


def test_path_made_absolute_caller_relative_to_cwd_default_relative_to_project(tmp_path):
    project, cwd = tmp_path / "project", tmp_path / "cwd"
    (project / "data").mkdir(parents=True)
    (cwd / "mine").mkdir(parents=True)
    ep = entry(data={"type": "path", "default": "data"}, other={"type": "path", "default": "data"})
    got = resolve(ep, {"other": "mine"}, project, cwd=cwd)
    assert got.declared == {"data": str(project / "data"), "other": str(cwd / "mine")}
    assert got.logged == {"data": "data", "other": "mine"}  # as given, not the resolved path
    assert resolve(ep, {"other": (cwd / "mine").as_uri()}, project, cwd=cwd).declared["other"] == str(cwd / "mine")


def test_missing_local_path_is_an_error(tmp_path):
    with pytest.raises(ProjectError, match="'data' is of type path"):
        resolve(entry(data={"type": "path"}), {"data": "nope.csv"}, tmp_path, cwd=tmp_path)


def test_remote_path_is_downloaded_into_its_slot(tmp_path):
    calls = []

    def download(uri, index):
        calls.append((uri, index))
        return f"/storage/param_{index}/file.csv"

    ep = entry(a="string", data={"type": "path"})
    got = resolve(ep, {"a": "x", "data": "s3://bucket/file.csv"}, tmp_path, download=download)
    assert calls == [("s3://bucket/file.csv", 1)]
    assert got.declared["data"] == "/storage/param_1/file.csv"
    assert got.logged["data"] == "s3://bucket/file.csv"


def test_uri_needs_a_scheme_and_passes_through(tmp_path):
    ep = entry(src={"type": "uri"})
    assert resolve(ep, {"src": "s3://b/k"}, tmp_path).declared["src"] == "s3://b/k"
    with pytest.raises(ProjectError, match="'src' is of type uri"):
        resolve(ep, {"src": "relative/path"}, tmp_path)


# -- command rendering ---------------------------------------------------------------------------
HOSTILE = ["$(touch pwned)", "`touch pwned`", "a; touch pwned", "it's", 'say "hi"', "x && touch pwned", "$HOME", "a\nb"]


@pytest.mark.parametrize("value", HOSTILE)
def test_values_reach_the_program_literally_through_bash(tmp_path, value):
    ep = entry('printf "%s\\n" {v} --k={v}', v="string")
    params = ResolvedParameters(declared={"v": value}, extra={"extra": value})
    argv = build_argv(ep, params)
    assert argv[:2] == ["bash", "-c"]
    out = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out == "".join(f"{line}\n" for line in [value, f"--k={value}", "--extra", value])
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("command", ["python t.py '{v}'", 'python t.py "{v}"', "python t.py \"--v={v}\""])
def test_placeholders_inside_quotes_are_refused(command):
    with pytest.raises(ProjectError, match="inside quotes"):
        render_shell_command(entry(command, v="string"), ResolvedParameters(declared={"v": "x"}))


def test_undeclared_placeholder_and_formats_are_refused():
    with pytest.raises(ProjectError, match=r"\{other\}, which is not"):
        render_shell_command(entry("run {other}", v="string"), ResolvedParameters(declared={"v": "x"}))
    with pytest.raises(ProjectError, match="no conversion"):
        render_shell_command(entry("run {v!r}", v="string"), ResolvedParameters(declared={"v": "x"}))


def test_literal_braces_and_quoted_extras():
    rendered = render_shell_command(
        entry("echo {{literal}} {v}", v="string"), ResolvedParameters(declared={"v": "a b"}, extra={"k": "c d"})
    )
    assert shlex.split(rendered) == ["echo", "{literal}", "a b", "--k", "c d"]


def test_script_entry_points_are_plain_argument_lists():
    params = ResolvedParameters(extra={"alpha": "$(touch pwned)"})
    script = EntryPoint(name="train.py", command="train.py", script=True)
    assert build_argv(script, params) == ["python", "train.py", "--alpha", "$(touch pwned)"]
    r_script = EntryPoint(name="fit.R", command="fit.R", script=True)
    assert build_argv(r_script, params) == [
        "Rscript", "-e", "mlflow::mlflow_source('fit.R')", "--args", "--alpha", "$(touch pwned)"
    ]
    with pytest.raises(ProjectError, match="R script"):
        build_argv(EntryPoint(name="x'.R", command="x');system('id');('.R", script=True), params)
