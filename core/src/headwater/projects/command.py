"""Turning an entry point and its parameters into the argument list of a process.

A declared entry point's command is a shell template written by the project's
author (running a project is running its code). Parameter values are data:
each is passed through :func:`shlex.quote` before it is substituted, so
``-P x='$(touch pwned)'`` reaches the script as that literal text. A template
that puts a placeholder inside quotes of its own (``'{x}'``) would undo that
quoting and is refused. Script entry points (``train.py``) need no shell at
all: they run as a plain argument list.
"""

from __future__ import annotations

import os
import re
import shlex
import string

from headwater.projects.params import ResolvedParameters
from headwater.projects.spec import EntryPoint, ProjectError

_PROBE = "HWPARAM{0}Q HWPARAM{0}Q"  # splits in two unless a quote holds it together
_R_SAFE_NAME = re.compile(r"^[\w ./+-]+$")


def _placeholders(entry: EntryPoint) -> list[tuple[str, str | None]]:
    """(literal text, field name) pairs of the command template, checked."""
    try:
        parts = list(string.Formatter().parse(entry.command))
    except ValueError as exc:
        raise ProjectError(
            f"The command of entry point {entry.name!r} is not a valid template ({exc});"
            " write literal braces as {{ and }}."
        ) from None
    out = []
    for literal, field, spec, conversion in parts:
        if field is not None:
            if field not in entry.parameters:
                raise ProjectError(
                    f"The command of entry point {entry.name!r} refers to {{{field}}}, which is not"
                    f" one of its parameters ({', '.join(sorted(entry.parameters)) or 'none'})."
                )
            if spec or conversion:
                raise ProjectError(
                    f"The command of entry point {entry.name!r} formats {{{field}}}; placeholders"
                    " take no conversion or format spec."
                )
        out.append((literal, field))
    return out


def _refuse_quoted_placeholders(entry: EntryPoint, parts: list[tuple[str, str | None]]) -> None:
    names = sorted({f for _, f in parts if f is not None})
    probe = "".join(
        literal + (_PROBE.format(names.index(f)) if f is not None else "") for literal, f in parts
    )
    try:
        words = shlex.split(probe)
    except ValueError as exc:
        raise ProjectError(f"The command of entry point {entry.name!r} cannot be parsed: {exc}") from None
    for i, name in enumerate(names):
        if any(_PROBE.format(i) in word for word in words):
            raise ProjectError(
                f"The command of entry point {entry.name!r} puts {{{name}}} inside quotes. Remove"
                " them: Headwater quotes every parameter value itself."
            )


def render_shell_command(entry: EntryPoint, params: ResolvedParameters) -> str:
    """The command line of a declared entry point, every value quoted."""
    parts = _placeholders(entry)
    _refuse_quoted_placeholders(entry, parts)
    rendered = "".join(
        literal + (shlex.quote(params.declared[f]) if f is not None else "") for literal, f in parts
    )
    extras = [f"{shlex.quote('--' + k)} {shlex.quote(v)}" for k, v in params.extra.items()]
    return " ".join([rendered, *extras]) if extras else rendered


def _extra_args(params: ResolvedParameters) -> list[str]:
    args: list[str] = []
    for key, value in params.extra.items():
        args += [f"--{key}", value]
    return args


def build_argv(entry: EntryPoint, params: ResolvedParameters) -> list[str]:
    """The argument list to run; ``python``/``bash`` are looked up on the environment's PATH."""
    if not entry.script:
        return ["bash", "-c", render_shell_command(entry, params)]
    script = entry.command
    if script.endswith(".py"):
        return ["python", script, *_extra_args(params)]
    if script.endswith(".sh"):
        return [os.environ.get("SHELL") or "bash", script, *_extra_args(params)]
    if not _R_SAFE_NAME.match(script):
        raise ProjectError(f"Cannot run the R script {script!r}: its name has characters R would misread.")
    # The R package reads parameters after --args (its mlflow_param).
    return ["Rscript", "-e", f"mlflow::mlflow_source('{script}')", "--args", *_extra_args(params)]


def display(argv: list[str]) -> str:
    """How ``argv`` reads in a log line."""
    if argv[:2] == ["bash", "-c"]:
        return argv[2]
    return shlex.join(argv)
