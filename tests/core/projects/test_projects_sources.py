"""Project sources: local folders in place, git repositories by path or URL at a version, cached."""

from __future__ import annotations

import shutil

import pytest
from projects_helpers import commit, git

from headwater.projects.sources import GIT_BRANCH, GIT_COMMIT, GIT_REPO_URL, fetch_project, public_url
from headwater.projects.spec import ProjectError


@pytest.fixture
def repo(make_git_repo):
    """main: v1 (tag) -> second; branch feature adds sub/."""
    root = make_git_repo({"MLproject": "name: one\n", "a.txt": "1\n"})
    git("tag", "v1", cwd=root)
    commit(root, {"a.txt": "2\n"}, "second")
    git("checkout", "-q", "-b", "feature", cwd=root)
    commit(root, {"sub/MLproject": "name: sub\n"}, "feature")
    git("checkout", "-q", "main", cwd=root)
    return root


def test_local_folder_runs_in_place_with_git_tags(repo):
    source = fetch_project(str(repo))
    assert source.directory == repo
    assert source.git == {GIT_COMMIT: git("rev-parse", "HEAD", cwd=repo), GIT_BRANCH: "main", GIT_REPO_URL: str(repo)}


def test_local_folder_outside_git_has_no_git_tags(make_project):
    root = make_project({"MLproject": "name: x\n"})
    source = fetch_project(str(root))
    assert source.directory == root and source.git == {} and source.source_name == str(root)


def test_origin_url_is_the_repo_url_without_credentials(repo):
    git("remote", "add", "origin", "https://user:secret@example.com/org/repo.git", cwd=repo)
    assert fetch_project(str(repo)).git[GIT_REPO_URL] == "https://example.com/org/repo.git"
    assert public_url("git@example.com:org/repo.git") == "git@example.com:org/repo.git"


@pytest.mark.parametrize("version, text, branch", [("v1", "1\n", None), ("main", "2\n", "main"), ("feature", "2\n", "feature")])
def test_version_by_tag_and_branch(repo, version, text, branch):
    source = fetch_project(str(repo), version)
    assert (source.directory / "a.txt").read_text() == text
    assert source.git[GIT_COMMIT] == git("rev-parse", f"{version}^{{commit}}", cwd=repo)
    assert source.git.get(GIT_BRANCH) == branch
    assert not (source.directory / ".git").exists()


def test_version_by_commit_and_short_commit(repo):
    first = git("rev-parse", "v1^{commit}", cwd=repo)
    assert fetch_project(str(repo), first).git[GIT_COMMIT] == first
    assert fetch_project(str(repo), first[:8]).git[GIT_COMMIT] == first


def test_file_url_and_subdirectory(repo):
    source = fetch_project(f"{repo.as_uri()}#sub", "feature")
    assert source.directory.name == "sub" and (source.directory / "MLproject").read_text() == "name: sub\n"
    assert source.source_name == f"{repo}#sub"
    with pytest.raises(ProjectError, match="has no folder 'sub'"):
        fetch_project(f"{repo}#sub", "v1")
    with pytest.raises(ProjectError, match="outside the project"):
        fetch_project(f"{repo}#../..", "main")


def test_unknown_version_is_a_clear_error(repo):
    with pytest.raises(ProjectError, match="Version 'nope' is not a commit, branch or tag"):
        fetch_project(str(repo), "nope")
    with pytest.raises(ProjectError, match="Invalid version"):
        fetch_project(str(repo), "--upload-pack=touch pwned")


def test_version_on_a_folder_outside_git(make_project):
    root = make_project({"MLproject": "name: x\n"})
    with pytest.raises(ProjectError, match="only supported for git projects"):
        fetch_project(str(root), "main")


def test_unreachable_git_url(tmp_path, monkeypatch):
    with pytest.raises(ProjectError, match="Could not fetch the git repository"):
        fetch_project(f"git+file://{tmp_path}/nothing-here.git")
    monkeypatch.chdir(tmp_path)
    for uri in ("ext::sh -c touch% pwned", "git+ext::sh -c touch% pwned"):  # git's command transport
        with pytest.raises(ProjectError):
            fetch_project(uri)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(ProjectError, match="Could not fetch the git repository https://127.0.0.1:9/x.git"):
        fetch_project("https://127.0.0.1:9/x.git")


def test_checkouts_are_cached_and_reused(repo, projects_cache):
    url = f"git+{repo.as_uri()}"
    first = fetch_project(url, "v1")
    assert first.directory.is_relative_to(projects_cache)
    (first.directory / "marker").write_text("kept\n")
    commit_id = first.git[GIT_COMMIT]
    shutil.rmtree(repo)
    # A full commit id already checked out needs no repository at all...
    again = fetch_project(url, commit_id)
    assert again.directory == first.directory and (again.directory / "marker").read_text() == "kept\n"
    # ...and a branch falls back to the cached mirror when the remote cannot be reached.
    assert fetch_project(url, "main").git[GIT_BRANCH] == "main"


def test_branch_moves_are_picked_up(repo):
    url = f"git+{repo.as_uri()}"
    before = fetch_project(url, "main")
    new_commit = commit(repo, {"a.txt": "3\n"}, "third")
    after = fetch_project(url, "main")
    assert after.git[GIT_COMMIT] == new_commit != before.git[GIT_COMMIT]
    assert (after.directory / "a.txt").read_text() == "3\n"
