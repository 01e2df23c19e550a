"""Cost: local $/M tokens from price, power and the engine's speed; API comparison and break-even."""
import pytest

from bot.calc.cost import CostRequest, estimate
from bot.calc.schema import load_prices
from bot.errors import InvalidRequestError
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def prices():
    return load_prices(KNOWLEDGE)


def test_electricity_follows_the_worked_example(engine, prices):
    # calculators.md §5: 300 W for 24 h x 30 days at 0.30 per kWh = 64.80 per month
    r = estimate(CostRequest("llama 3.1 8b", "rtx 4090", price=1600, watts=300, kwh=0.30, hours_per_day=24),
                 engine, prices)
    assert r.local.electricity_per_month == pytest.approx(64.80)


def test_every_input_is_stated(engine, prices):
    r = estimate(CostRequest("llama 3.1 8b", "rtx 4090"), engine, prices)
    assert {"price_usd", "watts", "kwh_usd", "hours_per_day", "months", "duty", "tokens_per_s"} <= r.inputs.keys()


def test_custom_api_price_is_compared(engine, prices):
    r = estimate(CostRequest("llama 3.1 8b", "rtx 4090", api_in=1.0, api_out=4.0), engine, prices)
    custom = next(a for a in r.api if a.name == "custom")
    assert custom.per_mtok == pytest.approx(3 * 1.0 + 4.0)


def test_hardware_without_a_price_asks_for_one(engine, prices):
    with pytest.raises(InvalidRequestError):
        estimate(CostRequest("llama 3.1 8b", "gtx 1080"), engine, prices)


def test_stable_json_keys(engine, prices):
    data = estimate(CostRequest("llama 3.1 8b", "rtx 4090"), engine, prices).model_dump()
    assert {"local", "api", "break_even_months", "inputs"} <= data.keys()
    assert {"per_mtok", "per_month"} <= data["local"].keys()
