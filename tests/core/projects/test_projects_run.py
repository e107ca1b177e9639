"""``headwater run`` and ``headwater.projects.run`` end to end: real projects, real child processes."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
from projects_helpers import HEADWATER, commit, git, run_cli

import headwater.projects as projects
from headwater.entities import RunStatus
from headwater.projects import ProjectError, ProjectRunFailed

# The script records what it received and logs through Headwater's fluent API.
TRAIN_PY = """
import json, os, sys
import headwater

alpha = headwater.param("alpha", 0.1, "numeric")
with open(os.environ["RESULT_FILE"], "w") as out:
    json.dump({"argv": sys.argv[1:], "alpha": alpha, "cwd": os.getcwd(),
               "run_id": os.environ["HEADWATER_RUN_ID"], "mlflow_run_id": os.environ["MLFLOW_RUN_ID"],
               "tracking": [os.environ["HEADWATER_TRACKING_URI"], os.environ["MLFLOW_TRACKING_URI"]],
               "experiment": os.environ["MLFLOW_EXPERIMENT_ID"]}, out)
headwater.log_metric("loss", alpha * 2)
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""

MLPROJECT = """
name: demo
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.5}
      name: string
      data: {type: path, default: data.txt}
    command: "python train.py --alpha {alpha} --name {name} --data {data}"
  sleepy:
    command: "python sleepy.py"
"""

SLEEPY_PY = """
import os, time
with open(os.environ["RESULT_FILE"], "w") as out:
    out.write(str(os.getpid()))
time.sleep(120)
"""


@pytest.fixture
def result_file(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    monkeypatch.setenv("RESULT_FILE", str(path))
    return path


@pytest.fixture
def demo(make_project):
    return make_project({"MLproject": MLPROJECT, "train.py": TRAIN_PY, "sleepy.py": SLEEPY_PY, "data.txt": "1\n"})


def all_runs(client, experiment_id="0"):
    return list(client.search_runs([experiment_id]).items)


def test_run_records_params_tags_status_and_script_metrics(demo, client, result_file):
    submitted = projects.run(str(demo), parameters={"name": "a b", "extra": "7"})
    run = client.get_run(submitted.run_id)
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params == {"alpha": "0.5", "name": "a b", "data": "data.txt", "extra": "7"}
    assert run.data.metrics["loss"] == 1.0  # logged by the child into the same run
    tags = run.data.tags
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.source.name"] == str(demo)
    assert tags["mlflow.project.entryPoint"] == "main"
    assert tags["mlflow.project.env"] == "local"
    assert tags["mlflow.project.backend"] == "local"
    assert "mlflow.source.git.commit" not in tags  # not in git
    got = json.loads(result_file.read_text())
    assert got["argv"] == ["--alpha", "0.5", "--name", "a b", "--data", str(demo / "data.txt"), "--extra", "7"]
    assert got["alpha"] == 0.5
    assert got["cwd"] == str(demo)
    assert got["run_id"] == got["mlflow_run_id"] == run.info.run_id
    assert got["tracking"] == [client.tracking_uri] * 2
    assert got["experiment"] == "0"
    assert [r.info.run_id for r in all_runs(client)] == [run.info.run_id]


def test_git_project_at_a_version_in_a_subfolder(make_git_repo, client, result_file):
    repo = make_git_repo({"proj/MLproject": MLPROJECT, "proj/train.py": TRAIN_PY, "proj/data.txt": "1\n"})
    git("checkout", "-q", "-b", "exp", cwd=repo)
    wanted = commit(repo, {"proj/data.txt": "2\n"}, "on a branch")
    git("checkout", "-q", "main", cwd=repo)
    done = run_cli("run", f"git+{repo.as_uri()}#proj", "-v", "exp", "-P", "name=x")
    assert done.returncode == 0, done.stderr
    (run,) = all_runs(client)
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == wanted
    assert tags["mlflow.source.git.branch"] == "exp"
    assert tags["mlflow.source.git.repoURL"] == f"git+{repo.as_uri()}"
    assert tags["mlflow.source.name"] == f"git+{repo.as_uri()}#proj"
    data_arg = json.loads(result_file.read_text())["argv"][5]
    assert open(data_arg).read() == "2\n"


def test_local_git_working_copy_gets_git_tags(make_git_repo, client, result_file):
    repo = make_git_repo({"MLproject": MLPROJECT, "train.py": TRAIN_PY, "data.txt": "1\n"})
    run = client.get_run(projects.run(str(repo), parameters={"name": "x"}).run_id)
    assert run.data.tags["mlflow.source.git.commit"] == git("rev-parse", "HEAD", cwd=repo)
    assert run.data.tags["mlflow.source.git.branch"] == "main"
    assert run.data.tags["mlflow.source.git.repoURL"] == str(repo)


def test_injection_through_a_parameter_runs_nothing(demo, client, result_file, tmp_path):
    hostile = "$(touch pwned)"
    done = run_cli("run", str(demo), "-P", f"name={hostile}", "-P", "x=`touch pwned`; touch pwned", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    argv = json.loads(result_file.read_text())["argv"]
    assert argv[argv.index("--name") + 1] == hostile
    assert argv[argv.index("--x") + 1] == "`touch pwned`; touch pwned"
    assert not (tmp_path / "pwned").exists() and not (demo / "pwned").exists()
    (run,) = all_runs(client)
    assert run.data.params["name"] == hostile


def test_failed_command_marks_the_run_failed(demo, client, result_file, monkeypatch):
    monkeypatch.setenv("EXIT_CODE", "3")
    done = run_cli("run", str(demo), "-P", "name=x")
    assert done.returncode == 1
    (run,) = all_runs(client)
    assert run.info.status == RunStatus.FAILED
    assert run.info.end_time is not None
    assert "exited with code 3" in run.data.tags["headwater.project.failureReason"]
    with pytest.raises(ProjectRunFailed) as err:
        projects.run(str(demo), parameters={"name": "x"})
    assert err.value.status == RunStatus.FAILED


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_the_child_and_marks_the_run_killed(demo, client, result_file, sig):
    process = subprocess.Popen([HEADWATER, "run", str(demo), "-e", "sleepy"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (result_file.exists() and result_file.read_text()):
            assert process.poll() is None and time.monotonic() < deadline, "the child never started"
            time.sleep(0.1)
        child_pid = int(result_file.read_text())
        (run,) = all_runs(client)
        assert run.info.status == RunStatus.RUNNING
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert client.get_run(run.info.run_id).info.status == RunStatus.KILLED
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the child is reaped by its parent shell or us; give it a moment
            os.kill(child_pid, 0)
            time.sleep(0.1)


def test_asynchronous_run_records_its_end(demo, client, result_file):
    submitted = projects.run(str(demo), parameters={"name": "x"}, synchronous=False)
    assert submitted.wait() is True
    assert submitted.get_status() == RunStatus.FINISHED
    assert client.get_run(submitted.run_id).info.status == RunStatus.FINISHED


def test_r_client_invocation(demo, client, result_file, tmp_path):
    """The arguments the R package's mlflow_run passes, and the stderr line it reads the run id from."""
    storage = tmp_path / "storage"
    done = run_cli("run", str(demo), "--entry-point", "main", "--experiment-id", "0",
                   "--storage-dir", str(storage), "--param-list", "name=from-r", "--param-list", "alpha=0.25",
                   "--no-conda")
    assert done.returncode == 0, done.stderr
    match = re.search(r"Run \(ID '([^']+)", done.stderr)
    assert match is not None
    run = client.get_run(match.group(1))
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["name"] == "from-r" and run.data.metrics["loss"] == 0.5


def test_script_entry_point_without_mlproject(make_project, client, result_file):
    root = make_project({"train.py": TRAIN_PY})
    done = run_cli("run", str(root), "-e", "train.py", "-P", "alpha=0.3", "-P", "name=$(id)")
    assert done.returncode == 0, done.stderr
    assert json.loads(result_file.read_text())["argv"] == ["--alpha", "0.3", "--name", "$(id)"]
    (run,) = all_runs(client)
    assert run.data.tags["mlflow.project.entryPoint"] == "train.py"
    assert run.data.metrics["loss"] == pytest.approx(0.6)


def test_experiment_name_run_name_and_existing_run(demo, client, result_file):
    done = run_cli("run", str(demo), "-P", "name=x", "--experiment-name", "projects-exp", "--run-name", "first")
    assert done.returncode == 0, done.stderr
    experiment = client.get_experiment_by_name("projects-exp")
    (run,) = all_runs(client, experiment.experiment_id)
    assert run.info.run_name == "first"
    existing = client.create_run("0", tags={"mlflow.user": "me"})
    done = run_cli("run", str(demo), "-P", "name=y", "--run-id", existing.info.run_id)
    assert done.returncode == 0, done.stderr
    reused = client.get_run(existing.info.run_id)
    assert reused.info.status == RunStatus.FINISHED and reused.data.params["name"] == "y"
    assert json.loads(result_file.read_text())["run_id"] == existing.info.run_id
    with pytest.raises(ProjectError, match="not both"):
        projects.run(str(demo), parameters={"name": "x"}, experiment_name="a", experiment_id="0")


def test_remote_path_parameter_is_downloaded_into_storage_dir(demo, client, result_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = client.create_run("0")
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    client.log_artifact(source.info.run_id, str(data))
    storage = tmp_path / "storage"
    projects.run(str(demo), parameters={"name": "x", "data": f"runs:/{source.info.run_id}/data.csv"},
                 storage_dir=str(storage))
    argv = json.loads(result_file.read_text())["argv"]
    downloaded = argv[argv.index("--data") + 1]
    assert downloaded.startswith(str(storage / "param_2"))
    assert open(downloaded).read() == "a,b\n"


BAD_INPUT = [
    (["-e", "trian"], "Could not find entry point 'trian'", "main, sleepy"),
    ([], "No value given for missing parameters", "'name'"),
    (["-P", "name=x", "-P", "alpha=fast"], "Parameter 'alpha' is of type float", "'fast'"),
    (["-P", "name=x", "-v", "main"], "only supported for git projects", ""),
    (["-P", "name=x", "-b", "nowhere"], "No project backend 'nowhere'", "'local'"),
    (["-P", "name=x", "-c", "{not json"], "not valid JSON", ""),
    (["-P", "name=x", "-P", "data=missing.csv"], "'data' is of type path", "missing.csv"),
]


@pytest.mark.parametrize("args, message, detail", BAD_INPUT)
def test_bad_input_is_refused_before_a_run_exists(demo, client, args, message, detail):
    done = run_cli("run", str(demo), *args)
    assert done.returncode == 1
    assert message in done.stderr and detail in done.stderr
    assert all_runs(client) == []


def test_malformed_mlproject_and_bad_git_sources_create_no_run(make_project, make_git_repo, client, tmp_path):
    broken = make_project({"MLproject": "entry_points:\n  main:\n    parameters: {a: {type: list}}\n    command: x\n"})
    done = run_cli("run", str(broken))
    assert done.returncode == 1
    assert str(broken / "MLproject") in done.stderr and "entry_points.main.parameters.a.type" in done.stderr
    repo = make_git_repo({"MLproject": MLPROJECT})
    done = run_cli("run", f"git+{repo.as_uri()}", "-v", "no-such-branch")
    assert done.returncode == 1 and "Version 'no-such-branch' is not a commit, branch or tag" in done.stderr
    done = run_cli("run", f"git+file://{tmp_path}/missing.git")
    assert done.returncode == 1 and "Could not fetch the git repository" in done.stderr
    assert all_runs(client) == []


def test_docker_env_without_engine_is_a_clear_error(make_project, client):
    root = make_project({"MLproject": "docker_env:\n  image: python:3.11-slim\nentry_points:\n  main:\n    command: python -V\n"})
    probe = None
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    if probe is not None and probe.returncode == 0 and probe.stdout.strip():
        pytest.skip("a Docker engine is running here")
    with pytest.raises(ProjectError, match="docker"):
        projects.run(str(root))
    done = run_cli("run", str(root))
    assert done.returncode == 1
    assert ("no docker engine is reachable" in done.stderr) or ("docker command is not installed" in done.stderr)
    assert all_runs(client) == []


def test_conda_env_without_conda_is_a_clear_error(make_project, client, monkeypatch, tmp_path):
    root = make_project({"MLproject": "conda_env: conda.yaml\nentry_points:\n  main:\n    command: python -V\n",
                         "conda.yaml": "name: x\ndependencies: [python=3.11]\n"})
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CONDA_EXE", raising=False)
    monkeypatch.delenv("HEADWATER_CONDA_EXE", raising=False)
    with pytest.raises(ProjectError, match="needs conda, and it is not installed"):
        projects.run(str(root))
    assert all_runs(client) == []


def test_failure_after_the_run_exists_is_recorded(make_project, client, monkeypatch):
    """A command that cannot start ends the run FAILED with the reason as a tag."""
    root = make_project({"MLproject": "entry_points:\n  main:\n    command: python -V\n"})
    monkeypatch.setattr("headwater.projects.backend.shutil.which", lambda *a, **k: None)
    with pytest.raises(ProjectError, match="not on the environment's PATH"):
        projects.run(str(root))
    (run,) = all_runs(client)
    assert run.info.status == RunStatus.FAILED
    assert "not on the environment's PATH" in run.data.tags["headwater.project.failureReason"]



def test_web_path_parameter_is_downloaded(demo, client, result_file, tmp_path):
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    (served / "remote.csv").write_text("x,y\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/remote.csv"
        projects.run(str(demo), parameters={"name": "x", "data": url}, storage_dir=str(tmp_path / "st"))
        argv = json.loads(result_file.read_text())["argv"]
        assert argv[argv.index("--data") + 1] == str(tmp_path / "st" / "param_2" / "remote.csv")
        with pytest.raises(ProjectError, match="Cannot download"):
            projects.run(str(demo), parameters={"name": "x", "data": url + ".missing"})
    finally:
        server.shutdown()
    (run, ) = all_runs(client)  # the failed download created no run
    assert run.data.params["data"] == url


def test_run_inside_an_active_run_is_its_child(demo, client, result_file):
    import headwater

    with headwater.start_run() as parent:
        child = projects.run(str(demo), parameters={"name": "x"})
    assert client.get_run(child.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_relative_tracking_paths_are_made_absolute(tmp_path, monkeypatch):
    from headwater.projects.runner import absolute_tracking_uri

    monkeypatch.chdir(tmp_path)
    assert absolute_tracking_uri("sqlite:///hw.db") == f"sqlite:///{tmp_path / 'hw.db'}"
    assert absolute_tracking_uri("sqlite:////abs/hw.db") == "sqlite:////abs/hw.db"
    assert absolute_tracking_uri("sqlite:///:memory:") == "sqlite:///:memory:"
    assert absolute_tracking_uri("file:mlruns") == (tmp_path / "mlruns").as_uri()
    assert absolute_tracking_uri("mlruns") == str(tmp_path / "mlruns")
    assert absolute_tracking_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
