"""The command line: outputs and the error contract (one line, exit status 2, nothing changed)."""

import json
import sqlite3
from pathlib import Path

import pytest

from symtuner.app.cli import main
from symtuner.core.settings import StudySettings
from symtuner.execution.simulate import SimulatedExecutor
from symtuner.tuner import Tuner

CURVES = Path(__file__).parent / "data" / "curves"


@pytest.fixture
def study(tmp_path, tiny_dataset):
    Tuner(tmp_path / "study", dataset=tiny_dataset, settings=StudySettings(epochs=5, n_initial=2),
          executor_factory=SimulatedExecutor).run(4)
    return tmp_path / "study"


def _error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1
    return err[-1]


@pytest.mark.parametrize("args, message", [
    (["run", "--dataset", "nope"], "data set"),
    (["run", "--network", "no_such_module:build"], "no_such_module"),
    (["run", "--config", "missing.toml"], "missing.toml does not exist"),
    (["run", "--rules", "no-such-dir"], "no-such-dir"),
    (["status", "not-a-study"], "not-a-study is not a study directory"),
    (["report", "not-a-study"], "not-a-study is not a study directory"),
    (["diagnose", "nofile.json"], "nofile.json: no such file"),
])
def test_user_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(args + (["--study-dir", "s"] if args[0] == "run" else [])) == 2
    line = _error_line(capsys)
    assert line.startswith("symtuner: error:") and message in line
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "s" / "study.db").exists()


@pytest.mark.parametrize("args", [["run", "--epochs", "0"], ["run", "--trials", "x"],
                                  ["run", "--optimizer", "bohb"], ["nonsense"]])
def test_bad_option_values_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_status_shows_table_explanation_and_best(study, capsys):
    assert main(["status", str(study), "--explain"]) == 0
    out = capsys.readouterr().out
    assert "#  state" in out and "val_accuracy" in out and "actions applied" in out
    assert out.count("complete") >= 4
    assert "#1: " in out and "->" in out  # explanations
    assert "best: trial #" in out and "model:" in out


def test_run_on_existing_study_with_new_options_changes_nothing(study, capsys):
    before = sqlite3.connect(study / "study.db").execute("SELECT * FROM trials").fetchall()
    assert main(["run", "--study-dir", str(study), "--dataset", "mnist", "--epochs", "5"]) == 2
    line = _error_line(capsys)
    assert "was created with other settings (stored -> given: dataset " in line and "-> 'mnist')" in line
    assert "epochs" not in line  # given as stored
    assert f"'symtuner resume {study}'" in line
    assert sqlite3.connect(study / "study.db").execute("SELECT * FROM trials").fetchall() == before


def test_diagnose_json_is_one_object(capsys):
    case = next(CURVES.glob("*overfit*.json"))
    assert main(["diagnose", str(case), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"source", "problems", "causes", "deferred", "actions", "reasons", "notes", "facts",
                         "explanation"}
    assert "overfitting" in data["problems"]
    assert {"name", "problem", "probability"} <= set(data["actions"][0])


def test_diagnose_text(capsys):
    case = next(CURVES.glob("*overfit*.json"))
    assert main(["diagnose", str(case), "--n-classes", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("problems: ") and "overfitting" in out and "explanation: " in out


def test_report_command(study, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(study), "-o", str(out)]) == 0
    assert out.stat().st_size > 100_000 and "report written" in capsys.readouterr().out


def test_report_without_output_writes_into_the_study_not_the_working_directory(study, tmp_path, monkeypatch,
                                                                              capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.html").write_text("mine")
    assert main(["report", str(study)]) == 0
    assert (tmp_path / "report.html").read_text() == "mine"
    assert (study / "report.html").stat().st_size > 100_000
    assert f"report written to {study / 'report.html'}" in capsys.readouterr().out


@pytest.mark.parametrize("history", [
    {"loss": [0.69, 0.5, 0.4, 0.35], "binary_accuracy": [0.5, 0.75, 0.82, 0.85],
     "val_loss": [0.68, 0.52, 0.43, 0.4], "val_binary_accuracy": [0.52, 0.74, 0.8, 0.83]},
    {"loss": [2.3, 1.5, 1.0, 0.8], "sparse_categorical_accuracy": [20.0, 50.0, 70.0, 76.0],
     "val_loss": [2.2, 1.5, 1.1, 0.9], "val_sparse_categorical_accuracy": [22.0, 48.0, 68.0, 74.0]},
    {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "val_loss": [1.0, 0.65, 0.45, 0.35, 0.3]},
    {"loss": [0.09, 0.05, 0.03, 0.025], "val_loss": [0.08, 0.05, 0.035, 0.03]},  # an MSE regression
], ids=["binary_accuracy", "percent", "loss_only", "mse"])
def test_diagnose_json_reads_every_key_variant(tmp_path, capsys, history):
    path = tmp_path / "h.json"
    path.write_text(json.dumps(history))
    assert main(["diagnose", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == [], data["explanation"]  # all four are healthy runs
    assert {"problems", "causes", "actions", "facts", "explanation"} <= set(data)
    assert data["facts"]["n_epochs"] == len(history["loss"])


def test_diagnose_says_when_a_curve_is_too_short(tmp_path, capsys):
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"loss": [2.3, 0.1], "accuracy": [0.1, 0.99], "val_loss": [2.3, 3.0],
                                "val_accuracy": [0.1, 0.3], "n_classes": 10}))
    assert main(["diagnose", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == [] and data["notes"] == ["too short to judge: 2 epochs < 3"]


@pytest.mark.parametrize("name", ["study.db", "study.log", "models/trial_0001.keras"])
def test_report_never_overwrites_a_file_of_the_study(study, capsys, name):
    target = study / name
    before = target.read_bytes() if target.is_file() else None
    assert main(["report", str(study), "-o", str(target)]) == 2
    assert "would overwrite a file of the study" in _error_line(capsys)
    assert (target.read_bytes() if target.is_file() else None) == before


def test_a_port_out_of_range_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboard", "somewhere", "--port", "70000"])
    assert exit_info.value.code == 2 and "must be at most 65535" in capsys.readouterr().err


def test_status_into_a_closed_pipe_ends_quietly(study):
    import subprocess
    import sys

    code = ("import sys; from symtuner.app.cli import main; sys.exit(main(['status', sys.argv[1], '--explain']))")
    reader = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    reader.wait()  # the reader is gone before anything is written, as when `head` has had its lines
    done = subprocess.run([sys.executable, "-c", code, str(study)], stdin=subprocess.DEVNULL,
                          stdout=reader.stdin, stderr=subprocess.PIPE, timeout=120)
    reader.stdin.close()
    assert done.returncode == 0, done.stderr[-1000:]
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr, done.stderr[-1000:]


def test_a_seed_beyond_32_bits_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--seed", "4294967296"])
    assert exit_info.value.code == 2 and "must be at most 4294967295" in capsys.readouterr().err


def test_diagnose_a_regression_history_on_its_baseline_scale(capsys):
    from pathlib import Path

    from symtuner.app.cli import main

    path = Path(__file__).parent / "data" / "curves" / "diabetes_low_lr_sgd.json"
    assert main(["diagnose", str(path), "--loss-scale", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "problems: low_lr" in out and "class count unknown" not in out
    with pytest.raises(SystemExit):
        main(["diagnose", str(path), "--loss-scale", "0"])
    assert "--loss-scale: '0' must be a finite number above 0" in capsys.readouterr().err
