"""The CLI as scripts use it: --json, --stdin, and errors with suggestions."""
import json
import subprocess
import sys


def willitrun(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_size_prints_a_table():
    run = willitrun("size", "llama 3.1 8b", "--gpu", "rtx 3060", "--context", "8192")
    assert run.returncode == 0
    assert "Verdict: fits entirely in GPU memory" in run.stdout


def test_size_json_is_the_report():
    run = willitrun("size", "llama 3.1 8b", "--gpu", "rtx 3060", "--json")
    assert json.loads(run.stdout)["verdict"] == "fits"


def test_stdin_answers_one_json_line_per_request_with_errors_inline():
    lines = "\n".join([
        json.dumps({"model": "llama 3.1 8b", "gpu": "rtx 3060"}),
        json.dumps({"model": "llama 3.1 8b", "gpu": "rtx 30600"}),
        json.dumps({"model": "qwen2.5 7b", "context": 0}),
        "not json",
    ]) + "\n"
    out = [json.loads(line) for line in willitrun("size", "--stdin", stdin=lines).stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["verdict"] == "fits"
    assert "Unknown GPU" in out[1]["error"] and out[1]["suggestions"]
    assert "Context must be" in out[2]["error"]
    assert "error" in out[3]


def test_unknown_model_exits_2_with_suggestions():
    run = willitrun("size", "llama 9 8b", "--gpu", "3090")
    assert run.returncode == 2 and "Closest known" in run.stderr


def test_run_without_token_opens_the_console():
    run = willitrun("run", stdin='size "llama 3.1 8b" --gpu 3090\nquit\n')
    assert "console" in run.stdout and "Verdict:" in run.stdout
