"""Image/video memory: weights per precision, offload modes, recommendation."""
import pytest

from bot.calc.image import (
    ImageModels,
    ImageRequest,
    _activations,
    _default_width,
    _vae_decode,
    _with_dequantized_layer,
    estimate,
)
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


def test_bitsandbytes_keeps_t5_ffn_output_in_fp32(models, catalog):
    r = estimate(ImageRequest("flux dev", precision="nf4", text_encoder_precision="nf4"), models, catalog)
    # T5-XXL 4.7B, of which the 1.007B "wo" weights stay fp32 (transformers `_keep_in_fp32_modules`)
    assert r.parts["text_encoder_2"] == pytest.approx((4.7 - 1.007) * 1e9 * 0.5625 + 1.007e9 * 4, rel=1e-6)


def test_small_clip_encoder_stays_16_bit_when_text_encoders_are_quantized(models, catalog):
    r = estimate(ImageRequest("flux dev", precision="nf4", text_encoder_precision="nf4"), models, catalog)
    assert r.parts["text_encoder"] == pytest.approx(0.123e9 * 2, rel=1e-6)


def test_fp8_layerwise_casting_leaves_flux_modulation_linears_16_bit(models, catalog):
    r = estimate(ImageRequest("flux dev", precision="fp8"), models, catalog)
    assert r.parts["transformer"] == pytest.approx(11.9e9 + 3.247e9, rel=1e-6)


def test_high_side_adds_denoising_and_decoding_phases_low_side_takes_the_larger(models, catalog):
    r = estimate(ImageRequest("flux dev"), models, catalog)
    weights = sum(v for k, v in r.parts.items() if k not in ("denoiser_activations", "vae_decode"))
    assert r.peak_bytes.high == pytest.approx(weights + r.parts["denoiser_activations"] + r.parts["vae_decode"]
                                              + 0.5 * GIB, rel=1e-6)
    assert r.peak_bytes.low < weights + r.parts["vae_decode"]


def test_kontext_packs_the_reference_image_into_the_sequence(models):
    flux = _activations(models.find("flux dev"), 1024, 1024, 1)
    kontext = _activations(models.find("flux kontext"), 1024, 1024, 1)
    assert kontext.low / flux.low == pytest.approx((2 * 4096 + 512) / (4096 + 512), rel=1e-6)   # tokens
    assert kontext.high / flux.high == pytest.approx(2, rel=1e-6)          # ComfyUI's estimate counts latent area


def test_flux_high_activations_are_comfyuis_working_memory_estimate(models):
    # ComfyUI memory_required: 128 x 128 latent x 2 bytes x 0.01 x 2.8 MiB = 917.5 MiB, above 20 live tensors
    act = _activations(models.find("flux dev"), 1024, 1024, 1)
    assert act.high == pytest.approx(128 * 128 * 2 * 0.01 * 2.8 * 2**20, rel=1e-9)
    assert act.low == pytest.approx((4096 + 512) * 3072 * 2 * 10, rel=1e-9)


def test_image_vae_decode_follows_the_measured_per_pixel_constants(models):
    m = models.find("flux dev")
    vae = _vae_decode(m, models.catalog.vae(m.vae_family), 1024, 1024, 1)
    assert vae.high == pytest.approx(2200 * 1024 * 1024 * 2)    # InvokeAI's constant: 4.3 GiB at 1024^2
    assert vae.low == pytest.approx(768 * 1024 * 1024 * 2)


def test_wan_vae_decodes_frame_by_frame_so_frames_only_add_the_clip(models):
    m = models.find("wan 2.1 14b")
    family = models.catalog.vae(m.vae_family)
    short, long = (_vae_decode(m, family, 1280, 720, f) for f in (17, 81))
    clip_per_frame = 2 * 3 * 1280 * 720 * 2                   # decoded frames and their torch.cat copy, 16-bit
    assert long.high - short.high == pytest.approx((81 - 17) * clip_per_frame)
    assert short.high == pytest.approx(7000 * 1280 * 720 * 2 + 17 * clip_per_frame)


def test_quantized_denoiser_adds_its_largest_layer_in_16_bits(models):
    m = models.find("flux dev")
    act = _activations(m, 1024, 1024, 1)
    assert _with_dequantized_layer(act, m, "bf16") == act
    q = _with_dequantized_layer(act, m, "q4_1")
    assert q.high - act.high == pytest.approx(0.04719e9 * 2)


def test_unknown_vae_family_names_the_model(tmp_path):
    import shutil
    (tmp_path / "catalog").mkdir()
    src = KNOWLEDGE / "catalog" / "image_models.yaml"
    text = src.read_text().replace("vae_family: qwen-image-vae", "vae_family: no-such-vae")
    (tmp_path / "catalog" / "image_models.yaml").write_text(text)
    shutil.copy(KNOWLEDGE / "catalog" / "prices.yaml", tmp_path / "catalog" / "prices.yaml")
    problems = calc_catalog_problems(tmp_path)
    assert any("qwen-image" in p and "no-such-vae" in p for p in problems)


@pytest.mark.parametrize("name", ["flux kontext", "qwen image", "hidream", "hunyuanvideo", "ltx video"])
def test_added_catalog_models_resolve_and_size(models, catalog, name):
    r = estimate(ImageRequest(name), models, catalog)
    assert r.peak_bytes.low > 10 * GIB


def test_video_resolution_names_the_height_at_16_by_9(models, catalog):
    assert _default_width(models.find("wan 2.1 14b"), 480) == 832        # Wan's 480p
    assert _default_width(models.find("wan 2.1 14b"), 720) == 1280       # 720p
    assert _default_width(models.find("flux dev"), 1024) == 1024         # images stay square
    r = estimate(ImageRequest("wan 2.1 14b", resolution=720), models, catalog)
    assert "1280x720" in r.assumptions[0]


def test_ltx_vae_decodes_the_whole_clip_so_its_term_grows_with_every_frame(models):
    m = models.find("ltxv")
    family = models.catalog.vae(m.vae_family)
    short, long = (_vae_decode(m, family, 704, 512, f) for f in (41, 161))
    per_frame = 56.25 * 704 * 512 * 2 + 2 * 3 * 704 * 512 * 2      # ComfyUI's constant, plus the decoded clip twice
    assert long.high - short.high == pytest.approx((161 - 41) * per_frame)


def test_a_height_alone_sizes_a_video_at_16_by_9_and_an_image_square(models, catalog):
    wan = estimate(ImageRequest("wan 2.1 14b", height=480), models, catalog)
    flux = estimate(ImageRequest("flux dev", height=768), models, catalog)
    assert (wan.width, wan.height) == (832, 480) and (flux.width, flux.height) == (768, 768)


def test_model_offload_phases_do_not_add_as_the_cache_is_emptied_between_components(models, catalog):
    m = models.find("wan 2.1 14b")
    r = estimate(ImageRequest("wan 2.1 14b", resolution=720, offload="model"), models, catalog)
    act = _activations(m, 1280, 720, 81)
    vae = _vae_decode(m, models.catalog.vae(m.vae_family), 1280, 720, 81)
    phases = [r.parts["transformer"] + act.high, r.parts["text_encoder"], r.parts["vae"] + vae.high]
    assert r.peak_bytes.high == pytest.approx(max(phases) + 0.5 * GIB, rel=1e-6)


@pytest.mark.parametrize("text,model_id", [("will ltx video run on my 3060", "ltx-video-2b"),
                                           ("will hunyuan video run on a 4090", "hunyuanvideo"),
                                           ("wan2.1 i2v 14b on a 4090", "wan2.1-t2v-14b")])
def test_names_with_and_without_their_variant_words_are_found(models, text, model_id):
    from bot.kinds.image import image_model_named
    assert image_model_named(text, models).id == model_id
