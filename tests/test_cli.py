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


def test_search_json_has_the_stable_keys():
    run = willitrun("search", "ollama does not use my gpu", "-k", "3", "--json")
    data = json.loads(run.stdout)
    assert run.returncode == 0 and data["query"] == "ollama does not use my gpu" and data["declined"] is False
    assert len(data["results"]) == 3 and {"id", "kind", "title", "score"} <= set(data["results"][0])


def test_search_stdin_writes_one_json_line_per_query():
    run = willitrun("search", "--stdin", stdin="what is gguf\nwhats the best pizza topping\n")
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["declined"] for o in out] == [False, True]


def test_route_json_has_the_stable_keys():
    data = json.loads(willitrun("route", "will llama 3.1 70b fit on 2x 3090 at 16k?", "--json").stdout)
    assert data["route"] == "sizing" and 0 <= data["confidence"] <= 1
    sizing = data["sizing"]
    assert sizing["model"] == {"id": "llama-3.1-70b", "params_b": sizing["model"]["params_b"]}
    assert sizing["gpu"]["id"] == "rtx-3090" and sizing["gpus"] == 2 and sizing["context"] == 16384
    assert sizing["quant"] is None and sizing["ram_gb"] is None


def test_route_stdin_routes_each_line():
    run = willitrun("route", "--stdin", stdin="what does q4_k_m mean\nlol nice\n")
    assert [json.loads(line)["route"] for line in run.stdout.splitlines()] == ["knowledge", "none"]


def test_ask_json_without_a_model_answers_from_the_entries():
    data = json.loads(willitrun("ask", "what is flash attention", "--json", "--no-llm").stdout)
    assert {"kind", "text", "sources", "sizing", "confidence", "fallback", "timings"} <= set(data)
    assert data["kind"] == "knowledge" and data["fallback"] is True
    assert data["sources"][0]["id"] == "flash-attention" and data["sizing"] is None


def test_ask_a_sizing_question_carries_the_report():
    data = json.loads(willitrun("ask", "will qwen2.5 14b fit on a 4070?", "--json", "--no-llm").stdout)
    assert data["kind"] == "sizing" and data["sizing"]["model"]["id"] == "qwen2.5-14b" and data["sources"] == []


def test_choose_json_has_the_stable_keys():
    data = json.loads(willitrun("choose", "qwen2.5 72b", "--json").stdout)
    assert {"model", "min_memory_bytes", "options", "suggestions"} <= set(data)
    option = data["options"][0]
    assert {"hardware", "count", "verdict", "decode_tokens_per_s"} <= set(option)
    assert set(option["decode_tokens_per_s"]) >= {"low", "high"}


def test_size_chart_writes_pngs(tmp_path):
    run = willitrun("size", "llama 3.1 8b", "--gpu", "rtx 3060", "--chart", str(tmp_path / "fit.png"))
    assert run.returncode == 0
    assert (tmp_path / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "fit-context.png").exists()


def test_a_bad_setting_is_named_as_it_is_set_without_its_value(monkeypatch, capsys):
    from bot.cli.main import main
    monkeypatch.setenv("DISCORD_SHARD_IDS", "abc-secret-looking")
    assert main(["size", "llama 3.1 8b", "--gpu", "rtx 3090"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: settings: DISCORD_SHARD_IDS: ") and "Traceback" not in err
    assert "abc-secret-looking" not in err
