"""Where a project's files come from: a local folder, or a git repository at a version.

A local folder runs in place. A git repository (a URL, or a local path when
``version`` is given) is mirrored once into the cache and updated on later
runs; each commit is checked out once into its own read-only-by-convention
folder and reused, so running the same commit again touches no network.
``uri#sub/dir`` runs the project in a subfolder.

Git is driven through the ``git`` command. Only the file, git, http(s) and ssh
transports are allowed (never ``ext::``), and git never prompts for a password.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from headwater.projects import cache
from headwater.projects.spec import ProjectError

log = logging.getLogger(__name__)

GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO_URL = "mlflow.source.git.repoURL"

_GIT_SCHEMES = ("http", "https", "ssh", "git", "git+ssh", "git+https", "git+http", "git+file")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")  # git@host:org/repo.git
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_GIT_TIMEOUT = float(os.environ.get("HEADWATER_GIT_TIMEOUT", "600"))


@dataclass(frozen=True)
class ProjectSource:
    """A project folder ready to run, and what the run record says about where it came from."""

    directory: Path
    source_name: str
    git: dict[str, str] = field(default_factory=dict)  # the mlflow.source.git.* tags


def split_uri(uri: str) -> tuple[str, str]:
    """``("repo", "sub/dir")`` from ``repo#sub/dir``."""
    base, _, subdir = uri.partition("#")
    return base, subdir.strip("/")


def is_git_url(uri: str) -> bool:
    scheme = urlsplit(uri).scheme.lower()
    return scheme in _GIT_SCHEMES or bool(_SCP_LIKE.match(uri))


def public_url(url: str) -> str:
    """``url`` without a password or token, fit for a tag or a log line."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL="file:git:http:https:ssh",
        GIT_SSH_COMMAND=env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
    )
    return env


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``git args...``; a failure is a ProjectError carrying git's own message."""
    if shutil.which("git") is None:
        raise ProjectError("Running a project from git needs the git command, and it is not installed.")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_git_env(),
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ProjectError(f"git {args[0]} did not finish within {_GIT_TIMEOUT:.0f} s.") from None
    if check and done.returncode != 0:
        raise ProjectError(f"git {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def _subfolder(root: Path, subdir: str, shown: str) -> Path:
    folder = (root / subdir).resolve() if subdir else root
    if not folder.is_relative_to(root.resolve()):
        raise ProjectError(f"The subfolder {subdir!r} of {shown} lies outside the project.")
    if not folder.is_dir():
        raise ProjectError(f"The project {shown} has no folder {subdir!r}.")
    return folder


def local_git_tags(folder: Path) -> dict[str, str]:
    """The git tags for a local folder inside a git working copy (empty otherwise)."""
    if shutil.which("git") is None:
        return {}
    head = git("rev-parse", "HEAD", "--show-toplevel", cwd=folder, check=False)
    if head.returncode != 0:
        return {}
    commit, toplevel = head.stdout.split()[:2]
    tags = {GIT_COMMIT: commit}
    branch = git("symbolic-ref", "--short", "-q", "HEAD", cwd=folder, check=False).stdout.strip()
    if branch:
        tags[GIT_BRANCH] = branch
    origin = git("remote", "get-url", "origin", cwd=folder, check=False).stdout.strip()
    tags[GIT_REPO_URL] = public_url(origin) if origin else toplevel
    return tags


def _git_toplevel(folder: Path) -> Path | None:
    done = git("rev-parse", "--show-toplevel", cwd=folder, check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def fetch_project(uri: str, version: str | None = None) -> ProjectSource:
    """Make the project at ``uri`` (at ``version``) available locally; errors before anything runs."""
    base, subdir = split_uri(uri)
    if version is not None and (not version or version.startswith("-")):
        raise ProjectError(f"Invalid version {version!r}.")
    if is_git_url(base):
        return _fetch_git(base, subdir, version)
    local = urlsplit(base).path if base.startswith("file:") else base
    folder = Path(os.path.expanduser(local or ".")).resolve()
    if not folder.is_dir():
        raise ProjectError(f"No project folder at {base!r} ({folder} does not exist or is not a folder).")
    if version is None:
        project_dir = _subfolder(folder, subdir, base)
        return ProjectSource(directory=project_dir, source_name=str(project_dir), git=local_git_tags(project_dir))
    toplevel = _git_toplevel(folder) if shutil.which("git") else None
    if toplevel is None:
        raise ProjectError(f"Setting a version is only supported for git projects, and {folder} is not in git.")
    inner = os.path.relpath(folder, toplevel)
    inner = "" if inner == "." else inner
    return _fetch_git(str(toplevel), "/".join(p for p in (inner, subdir) if p), version)


def _update_mirror(url: str, mirror: Path) -> None:
    shown = public_url(url)
    if not mirror.exists():
        with cache.building(mirror) as scratch:
            try:
                # pip-style "git+https://" is plain "https://" to git.
                git_url = url[len("git+"):] if url.startswith("git+") else url
                git("clone", "--bare", "--quiet", "--", git_url, str(scratch))  # scratch is empty
            except ProjectError as exc:
                raise ProjectError(f"Could not fetch the git repository {shown}: {exc}") from None
        return
    try:
        git("fetch", "--quiet", "--prune", "--force", "origin",
            "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", cwd=mirror)
    except ProjectError as exc:
        log.warning("Could not update %s, using the cached copy: %s", shown, exc)


def _resolve_version(url: str, mirror: Path, version: str | None) -> tuple[str, str | None]:
    """(commit, branch or None) that ``version`` names in the mirror."""
    if version is None:
        branch = git("symbolic-ref", "--short", "-q", "HEAD", cwd=mirror, check=False).stdout.strip()
        commit = git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", cwd=mirror, check=False)
        if commit.returncode != 0:
            raise ProjectError(f"The git repository {public_url(url)} has no commits.")
        return commit.stdout.strip(), branch or None
    found = git("rev-parse", "--verify", "--quiet", f"{version}^{{commit}}", cwd=mirror, check=False)
    if found.returncode != 0 and re.fullmatch(r"[0-9a-f]{7,40}", version):
        # A commit on no branch: servers may still hand it out by id.
        git("fetch", "--quiet", "origin", version, cwd=mirror, check=False)
        found = git("rev-parse", "--verify", "--quiet", f"{version}^{{commit}}", cwd=mirror, check=False)
    if found.returncode != 0:
        raise ProjectError(
            f"Version {version!r} is not a commit, branch or tag of the git repository {public_url(url)}."
        )
    is_branch = git("show-ref", "--verify", "--quiet", f"refs/heads/{version}", cwd=mirror, check=False)
    return found.stdout.strip(), version if is_branch.returncode == 0 else None


def _checkout(mirror: Path, commit: str, target: Path) -> None:
    """Extract the files of ``commit`` into ``target`` (no .git: the run's tags record the commit)."""
    with cache.building(target) as scratch:
        archive = scratch / ".archive.tar"
        git("archive", "--format=tar", f"--output={archive}", commit, cwd=mirror)
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
        archive.unlink()


def _fetch_git(url: str, subdir: str, version: str | None) -> ProjectSource:
    key = cache.digest(url)
    root = cache.cache_root()
    mirror = root / "git" / f"{key}.git"
    shown = public_url(url)
    with cache.locked(f"git-{key}"):
        # A full commit id already checked out needs no network at all.
        if version and _FULL_SHA.match(version) and (root / "checkouts" / key / version).is_dir():
            commit, branch = version, None
        else:
            _update_mirror(url, mirror)
            commit, branch = _resolve_version(url, mirror, version)
        checkout = root / "checkouts" / key / commit
        if not checkout.is_dir():
            _checkout(mirror, commit, checkout)
    tags = {GIT_COMMIT: commit, GIT_REPO_URL: shown}
    if branch:
        tags[GIT_BRANCH] = branch
    project_dir = _subfolder(checkout, subdir, shown)
    return ProjectSource(
        directory=project_dir,
        source_name=f"{shown}#{subdir}" if subdir else shown,
        git=tags,
    )
