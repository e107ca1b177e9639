"""System tags describing where a run comes from, as MLflow's clients set them.

Runs created by the fluent API carry ``mlflow.user``, ``mlflow.source.name``,
``mlflow.source.type`` and, inside a git checkout, ``mlflow.source.git.commit``
(plus branch and origin URL when known). Git facts are read from the ``.git``
folder directly: no subprocess, no GitPython.
"""

from __future__ import annotations

import configparser
import functools
import getpass
import os
import sys

from headwater.entities import SourceType

USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO_URL = "mlflow.source.git.repoURL"
RUN_NAME = "mlflow.runName"
PARENT_RUN_ID = "mlflow.parentRunId"

_USER_ENV = ("HEADWATER_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME")


def current_user() -> str:
    for name in _USER_ENV:
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers without a passwd entry)
        return "unknown"


def source_name() -> str:
    """The running script as invoked, or ``<console>`` in an interactive session."""
    return sys.argv[0] if sys.argv and sys.argv[0] else "<console>"


def _git_dirs(start: str) -> tuple[str, str] | None:
    """``(git dir, common dir)`` of the checkout containing ``start``, or None."""
    path = os.path.abspath(start)
    while True:
        dot_git = os.path.join(path, ".git")
        if os.path.isdir(dot_git):
            return dot_git, dot_git
        if os.path.isfile(dot_git):  # worktree or submodule: "gitdir: <path>"
            with open(dot_git, encoding="utf-8") as fh:
                line = fh.readline().strip()
            if line.startswith("gitdir:"):
                git_dir = os.path.normpath(os.path.join(path, line[len("gitdir:"):].strip()))
                common = git_dir
                commondir_file = os.path.join(git_dir, "commondir")
                if os.path.isfile(commondir_file):
                    with open(commondir_file, encoding="utf-8") as fh:
                        common = os.path.normpath(os.path.join(git_dir, fh.read().strip()))
                return git_dir, common
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _read_ref(git_dir: str, common: str, ref: str) -> str | None:
    for base in (git_dir, common):
        ref_file = os.path.join(base, *ref.split("/"))
        if os.path.isfile(ref_file):
            with open(ref_file, encoding="utf-8") as fh:
                return fh.read().strip() or None
    packed = os.path.join(common, "packed-refs")
    if os.path.isfile(packed):
        with open(packed, encoding="utf-8") as fh:
            for line in fh:
                sha, _, name = line.strip().partition(" ")
                if name == ref:
                    return sha
    return None


def _origin_url(common: str) -> str | None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read(os.path.join(common, "config"), encoding="utf-8")
        return parser.get('remote "origin"', "url", fallback=None)
    except configparser.Error:
        return None


@functools.lru_cache(maxsize=32)
def git_tags(start: str) -> dict[str, str]:
    """Git tags for the checkout containing ``start`` (empty outside git); cached per folder."""
    try:
        dirs = _git_dirs(start)
        if dirs is None:
            return {}
        git_dir, common = dirs
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as fh:
            head = fh.read().strip()
        tags: dict[str, str] = {}
        if head.startswith("ref:"):
            ref = head[len("ref:"):].strip()
            commit = _read_ref(git_dir, common, ref)
            if ref.startswith("refs/heads/"):
                tags[GIT_BRANCH] = ref[len("refs/heads/"):]
        else:
            commit = head  # detached HEAD
        if not commit:
            return {}  # a fresh repository without commits
        tags[GIT_COMMIT] = commit
        url = _origin_url(common)
        if url:
            tags[GIT_REPO_URL] = url
        return tags
    except OSError:
        return {}


def _source_dir() -> str:
    main = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if main and os.path.exists(main):
        return os.path.dirname(os.path.abspath(main))
    return os.getcwd()


def context_tags() -> dict[str, str]:
    """The system tags of a run started here and now."""
    tags = {USER: current_user(), SOURCE_NAME: source_name(), SOURCE_TYPE: SourceType.LOCAL.value}
    tags.update(git_tags(_source_dir()))
    return tags


def resolve_tags(user_tags: dict[str, str] | None = None) -> dict[str, str]:
    """System tags overlaid with the caller's own (the caller wins)."""
    tags = context_tags()
    tags.update(user_tags or {})
    return tags
