"""The /whatcanirun and /compare pages against a real uvicorn server: a GET form whose URL is the permalink, the
same result as the CLI, the chart as PNG with alt text, and an unknown name as a message on the page."""
import re
from html import unescape

import httpx
import pytest

from bot.web.app import create_app
from tests.helpers import core_with
from tests.test_web_api import cli_json, serve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def client(core):
    with serve(create_app(core_with(core, web_rate_limit_per_minute=0))) as url, \
            httpx.Client(base_url=url, timeout=120) as c:
        yield c


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_what_can_i_run_page_lists_the_clis_options_in_order_with_its_chart(client):
    expected = cli_json("whatcanirun", "--gpu", "rtx 3060", "--use", "coding")
    page = client.get("/whatcanirun", params={"gpu": "rtx 3060", "use": "coding"})
    assert page.status_code == 200
    rows = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page.text)
    assert rows == [o["model"]["name"] for o in expected["options"]]
    img = re.search(r'<img src="(/whatcanirun/chart\.png\?[^"]+)"[^>]*alt="([^"]+)"', page.text)
    assert img and expected["options"][0]["model"]["name"] in unescape(img.group(2))
    chart = client.get(unescape(img.group(1)))
    assert chart.status_code == 200 and chart.content[:8] == PNG_MAGIC
    assert 'id="permalink" href="http' in page.text and "gpu=rtx+3060" in page.text


def test_compare_page_shows_both_setups_and_the_clis_summary(client):
    expected = cli_json("compare", "3090", "2x 4060 ti 16gb", "--model", "qwen2.5 32b")
    page = client.get("/compare", params={"a": "3090", "b": "2x 4060 ti 16gb", "model": "qwen2.5 32b"})
    assert page.status_code == 200
    shown = text_of(page.text)
    for line in expected["summary"]:
        assert unescape(line) in shown
    assert all(s["hardware"]["name"] in shown for s in expected["sides"])
    img = re.search(r'<img src="(/compare/chart\.png\?[^"]+)"', page.text)
    assert client.get(unescape(img.group(1))).content[:8] == PNG_MAGIC


def test_an_empty_form_is_just_the_form_and_an_unknown_card_is_said_on_the_page(client):
    empty = client.get("/whatcanirun")
    assert empty.status_code == 200 and 'id="result"' in empty.text and 'id="verdict"' not in empty.text
    unknown = client.get("/whatcanirun", params={"gpu": "rtx 5095"})
    assert unknown.status_code == 404
    assert "Unknown GPU or hardware 'rtx 5095'" in text_of(unknown.text)
    assert client.get("/compare/chart.png", params={"a": "rtx 5095", "b": "3090"}).status_code == 404


def test_both_pages_are_in_the_header(client):
    home = client.get("/").text
    assert 'href="/whatcanirun"' in home and 'href="/compare"' in home
