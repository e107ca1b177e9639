"""The MLproject file: parsing, shorthand, errors that name the file and the field."""

from __future__ import annotations

import pytest

from headwater.projects.spec import ProjectError, load_project

MLPROJECT = """
name: demo
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.1}
      epochs: {type: int, default: 3}
      name: string
      data: {type: path, default: data.txt}
      flag: {default: true}
    command: "python train.py --alpha {alpha}"
  validate:
    command: "python validate.py"
"""


def test_entry_points_parameters_and_shorthand(make_project):
    root = make_project({"MLproject": MLPROJECT, "python_env.yaml": "python: '3.11'\n"})
    project = load_project(root)
    assert project.name == "demo"
    assert project.python_env == root / "python_env.yaml"
    main = project.entry_point("main")
    params = main.parameters
    assert (params["alpha"].type, params["alpha"].default) == ("float", "0.1")
    assert (params["epochs"].type, params["epochs"].default) == ("int", "3")
    assert (params["name"].type, params["name"].default) == ("string", None)  # shorthand: required
    assert (params["flag"].type, params["flag"].default) == ("string", "true")
    assert project.entry_point("validate").parameters == {}


def test_mlproject_file_name_is_case_insensitive(make_project):
    root = make_project({"mlproject": "entry_points:\n  main:\n    command: echo hi\n"})
    assert load_project(root).entry_point("main").command == "echo hi"


@pytest.mark.parametrize(
    "text, field",
    [
        ("entry_points:\n  main:\n    parameters:\n      a: {type: double}\n    command: x\n",
         "entry_points.main.parameters.a.type"),
        ("entry_points:\n  main:\n    parameters: {}\n", "entry_points.main.command"),
        ("entry_points:\n  main:\n    command: x\n    paramters: {}\n", "entry_points.main.paramters"),
        ("docker_env:\n  volumes: []\n", "docker_env.image"),
        ("entry_points: [main]\n", "entry_points"),
    ],
)
def test_malformed_mlproject_names_file_and_field(make_project, text, field):
    root = make_project({"MLproject": text})
    with pytest.raises(ProjectError) as err:
        load_project(root)
    assert str(root / "MLproject") in str(err.value)
    assert field in str(err.value)


def test_invalid_yaml_names_the_file(make_project):
    root = make_project({"MLproject": "entry_points: [unclosed\n"})
    with pytest.raises(ProjectError, match="not valid YAML") as err:
        load_project(root)
    assert str(root / "MLproject") in str(err.value)


def test_multiple_environment_fields_are_refused(make_project):
    root = make_project({
        "MLproject": "python_env: p.yaml\nconda_env: c.yaml\n", "p.yaml": "python: '3.11'\n", "c.yaml": "name: x\n",
    })
    with pytest.raises(ProjectError, match="multiple environment fields"):
        load_project(root)


def test_missing_environment_file_is_named(make_project):
    root = make_project({"MLproject": "python_env: missing.yaml\n"})
    with pytest.raises(ProjectError, match=r"python_env: file 'missing.yaml' does not exist"):
        load_project(root)


def test_unknown_entry_point_lists_the_entry_points(make_project):
    root = make_project({"MLproject": MLPROJECT, "python_env.yaml": "python: '3.11'\n"})
    with pytest.raises(ProjectError) as err:
        load_project(root).entry_point("trian")
    message = str(err.value)
    assert "'trian'" in message and "main, validate" in message


def test_folder_without_mlproject_runs_scripts(make_project):
    root = make_project({"train.py": "print(1)\n", "run.sh": "echo 1\n", "notes.txt": "x\n", "conda.yaml": "name: x\n"})
    project = load_project(root)
    assert project.entry_points == {}
    assert project.conda_env == root / "conda.yaml"
    assert project.entry_point("train.py").script
    assert project.entry_point("run.sh").script
    with pytest.raises(ProjectError, match="Could not find entry point 'notes.txt'"):
        project.entry_point("notes.txt")
    with pytest.raises(ProjectError, match="Could not find entry point 'main'"):
        project.entry_point("main")


def test_script_entry_point_cannot_leave_the_project(make_project, tmp_path):
    (tmp_path / "outside.py").write_text("print(1)\n")
    root = make_project({"train.py": "print(1)\n"})
    with pytest.raises(ProjectError):
        load_project(root).entry_point("../outside.py")
