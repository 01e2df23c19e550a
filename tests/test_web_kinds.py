"""The computed answer kinds over HTTP (/api/v1/whatcanirun, compare, finetune, serve, image, cost) against a real
uvicorn server on localhost: the same JSON as the CLI's --json for the same request, GET and POST agreeing, and
unknown names as problem details with the CLI's message and the closest names."""
import httpx
import pytest

from bot.web.app import create_app
from tests.helpers import core_with
from tests.test_web_api import assert_problem, cli_error, cli_json, serve

KINDS = ("whatcanirun", "compare", "finetune", "serve", "image", "cost")

# one request per kind: the CLI's arguments and the same request as the API's parameters
CASES = {
    "whatcanirun": (["whatcanirun", "--gpu", "rtx 3060", "--use", "coding", "--context", "16384"],
                    {"gpu": "rtx 3060", "use": "coding", "context": 16384}),
    "compare": (["compare", "3090", "2x 4060 ti 16gb", "--model", "qwen2.5 32b"],
                {"hardware": ["3090", "2x 4060 ti 16gb"], "model": "qwen2.5 32b"}),
    "finetune": (["finetune", "llama 3.1 8b", "--method", "lora", "--seq-len", "4096", "--gpu", "rtx 4090",
                  "--targets", "q,k,v,o"],
                 {"model": "llama 3.1 8b", "method": "lora", "seq_len": 4096, "gpu": "rtx 4090",
                  "targets": "q,k,v,o"}),
    "serve": (["serve", "llama 3.1 8b", "--gpu", "rtx 4090", "--runtime", "llama-server", "--context", "16384"],
              {"model": "llama 3.1 8b", "gpu": "rtx 4090", "runtime": "llama-server", "context": 16384}),
    "image": (["image", "flux dev", "--precision", "fp8", "--offload", "model", "--gpu", "rtx 3060"],
              {"model": "flux dev", "precision": "fp8", "offload": "model", "gpu": "rtx 3060"}),
    "cost": (["cost", "llama 3.1 8b", "--gpu", "rtx 3090", "--price", "800", "--kwh", "0.2"],
             {"model": "llama 3.1 8b", "gpu": "rtx 3090", "price": 800, "kwh": 0.2}),
}
UNKNOWN_GPU = {
    "whatcanirun": (["whatcanirun", "--gpu", "rtx 9999"], {"gpu": "rtx 9999"}),
    "compare": (["compare", "3090", "rtx 9999"], {"hardware": ["3090", "rtx 9999"]}),
    "finetune": (["finetune", "llama 3.1 8b", "--gpu", "rtx 9999"], {"model": "llama 3.1 8b", "gpu": "rtx 9999"}),
    "serve": (["serve", "llama 3.1 8b", "--gpu", "rtx 9999"], {"model": "llama 3.1 8b", "gpu": "rtx 9999"}),
    "image": (["image", "flux dev", "--gpu", "rtx 9999"], {"model": "flux dev", "gpu": "rtx 9999"}),
    "cost": (["cost", "llama 3.1 8b", "--gpu", "rtx 9999"], {"model": "llama 3.1 8b", "gpu": "rtx 9999"}),
}


@pytest.fixture(scope="module")
def client(core):
    with serve(create_app(core_with(core, web_rate_limit_per_minute=0))) as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        yield c


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_answers_what_the_cli_prints_and_get_and_post_agree(client, kind):
    args, params = CASES[kind]
    got = client.get(f"/api/v1/{kind}", params=params)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/json"
    assert got.json() == cli_json(*args)
    posted = client.post(f"/api/v1/{kind}", json=params)
    assert posted.status_code == 200, posted.text
    assert posted.json() == got.json()


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_gpu_is_a_404_problem_with_the_cli_message_and_suggestions(client, kind):
    args, params = UNKNOWN_GPU[kind]
    body = assert_problem(client.get(f"/api/v1/{kind}", params=params), 404)
    assert body["type"] == "/problems/unknown-name" and body["instance"] == f"/api/v1/{kind}"
    assert body["suggestions"] and "rtx-3090" in body["suggestions"]
    assert body["detail"] == cli_error(*args)
    assert assert_problem(client.post(f"/api/v1/{kind}", json=params), 404) == body


def test_an_impossible_option_is_a_422_problem_with_the_cli_message(client):
    body = assert_problem(client.get("/api/v1/cost", params={"model": "llama 3.1 8b", "gpu": "rtx 3090",
                                                             "duty": 2}), 422)
    assert body["detail"] == cli_error("cost", "llama 3.1 8b", "--gpu", "rtx 3090", "--duty", "2")
    one_side = assert_problem(client.post("/api/v1/compare", json={"hardware": ["3090"]}), 422)
    assert one_side["detail"] == cli_error("compare", "3090")


def test_fields_are_validated_and_capped(client):
    wrong = assert_problem(client.get("/api/v1/image", params={"model": "flux dev", "offload": "bogus"}), 422)
    assert wrong["type"] == "/problems/validation" and wrong["errors"][0]["loc"] == ["offload"]
    assert_problem(client.post("/api/v1/serve", json={"model": "llama 3.1 8b", "gpu": "rtx 4090", "extra": 1}), 422)
    assert_problem(client.get("/api/v1/serve", params={"model": "x" * 101, "gpu": "rtx 4090"}), 422)
    four = assert_problem(client.post("/api/v1/compare", json={"hardware": ["3090", "4090", "3060", "4080"]}), 422)
    assert four["errors"][0]["loc"] == ["hardware"]
    assert_problem(client.get("/api/v1/finetune", params={"model": "llama 3.1 8b", "gpus": 0}), 422)


def test_openapi_lists_each_kind_with_the_clis_result_model(client):
    schema = client.get("/openapi.json").json()
    results = {"whatcanirun": "WhatCanIRun", "compare": "Comparison", "finetune": "FinetuneResult",
               "serve": "ServeResult", "image": "ImageResult", "cost": "CostResult"}
    for kind, model in results.items():
        path = schema["paths"][f"/api/v1/{kind}"]
        assert set(path) == {"get", "post"}
        for operation in path.values():
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert ok["$ref"] == f"#/components/schemas/{model}"
            assert "application/problem+json" in operation["responses"]["404"]["content"]
