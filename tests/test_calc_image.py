"""Image/video memory: weights per precision, offload modes, recommendation."""
import pytest

from bot.calc.image import ImageModels, ImageRequest, estimate
from bot.calc.schema import calc_catalog_problems, load_image_catalog
from bot.sizing.devices import GIB
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def models():
    return ImageModels(load_image_catalog(KNOWLEDGE))


def test_calculator_catalogs_validate(catalog):
    assert calc_catalog_problems(KNOWLEDGE, {h.id for h in catalog.hardware}) == []


def test_flux_bf16_weights_are_about_31_gib(models, catalog):
    r = estimate(ImageRequest("flux dev"), models, catalog)
    weights = sum(v for k, v in r.parts.items() if k not in ("denoiser_activations", "vae_decode"))
    assert 30 * GIB < weights < 33 * GIB    # the diffusers quantization post: 31.447 GB after loading


def test_offload_modes_lower_the_peak_in_order(models, catalog):
    peaks = [estimate(ImageRequest("flux dev", offload=o), models, catalog).peak_bytes.high
             for o in ("none", "model", "sequential")]
    assert peaks[0] > peaks[1] > peaks[2]


def test_offloading_needs_system_ram_for_the_weights(models, catalog):
    assert estimate(ImageRequest("flux dev", offload="model"), models, catalog).ram_bytes > 30 * GIB
    assert estimate(ImageRequest("flux dev"), models, catalog).ram_bytes == 0


def test_recommendation_on_a_12_gb_card_is_one_that_fits(models, catalog):
    r = estimate(ImageRequest("flux dev", gpu="rtx 3060"), models, catalog)
    assert r.verdict == "does_not_fit"
    pick = next(o for o in r.options if f"{o.precision} with offload {o.offload}" == r.recommendation)
    assert pick.verdict == "fits"


def test_video_frames_raise_the_peak(models, catalog):
    short = estimate(ImageRequest("wan 2.1 14b", frames=17), models, catalog)
    long = estimate(ImageRequest("wan 2.1 14b", frames=81), models, catalog)
    assert long.peak_bytes.high > short.peak_bytes.high


def test_stable_json_keys(models, catalog):
    data = estimate(ImageRequest("sdxl"), models, catalog).model_dump()
    assert {"model", "precision", "offload", "resolution", "peak_bytes", "verdict"} <= data.keys()
