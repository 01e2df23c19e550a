"""ik_llama.cpp's own quantization types (IQ2_K ... IQ6_K, IQ4_KS, IQ4_KSS) are sized from their real block sizes,
laid out by that fork's rules, and named without a substitution; labels with no fixed recipe still state one."""
import json
import subprocess
import sys

import pytest

from bot.resolve.resolver import Resolver
from bot.sizing.engine import SizingEngine

QK_K = 256
# bytes of one 256-weight block, as ik_llama.cpp's ggml/src/ggml-common.h static_asserts spell them
# (ikawrakow/ik_llama.cpp @ 8337e4cd3861406fc04e0854b1409cd1b027fbc9): fp16 scale, uint16 extra, scales, quants
IK_BLOCK_BYTES = {
    "IQ2_K": 2 + 2 + QK_K // 32 + QK_K // 4,
    "IQ3_K": 2 + 2 * 2 + QK_K // 32 + QK_K // 4 + QK_K // 8,
    "IQ4_K": 2 + 2 + QK_K // 2 + 3 * QK_K // 64,
    "IQ4_KS": QK_K // 32 + QK_K // 2,
    "IQ4_KSS": QK_K // 8 * 4,
    "IQ5_K": 2 + 2 + QK_K // 2 + QK_K // 8 + 3 * QK_K // 64,
    "IQ6_K": 2 + 2 + QK_K // 2 + QK_K // 4 + QK_K // 16,
}
GIB = 2**30


def willitrun(*args):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", IK_BLOCK_BYTES)
def test_each_ik_type_takes_the_bytes_its_block_struct_declares(name, catalog):
    tensor_type = catalog.tensor_type(name)
    assert (tensor_type.block_size, tensor_type.bytes_per_block) == (QK_K, IK_BLOCK_BYTES[name])


def test_size_at_IQ4_K_uses_its_own_bits_and_states_no_substitution():
    report = json.loads(willitrun("size", "llama 3.1 8b", "--quant", "IQ4_K", "--json").stdout)
    assert report["quant"] == "IQ4_K"
    said = " ".join(report["assumptions"])
    assert "closest" not in said and "sized as" not in said
    assert "ik_llama.cpp" in said             # the one runtime that loads it
    pure = 8.03e9 * IK_BLOCK_BYTES["IQ4_K"] / QK_K     # every weight at 4.5 bits
    # the bulk at 4.5 bits, a few tensors (output, attn_v) at more: never the 4.25 of IQ4_XS, the closest standard type
    assert pure <= report["weights_bytes"] <= 1.05 * pure
    iq4_xs = json.loads(willitrun("size", "llama 3.1 8b", "--quant", "IQ4_XS", "--json").stdout)
    assert report["weights_bytes"] > iq4_xs["weights_bytes"] * 1.03


def test_the_IQ4_K_mix_follows_ik_llama_cpps_rules(catalog):
    """Llama 3.1 8B has 4 query heads per KV head: attn_v goes up to IQ5_K, the output head to Q6_K."""
    layout = SizingEngine(catalog).sized_at(catalog.model("llama-3.1-8b"), "IQ4_K").layout
    assert {t for t, b in layout.bytes_by_type.items() if b} == {"IQ4_K", "IQ5_K", "Q6_K", "F32"}


def test_IQ4_KS_matches_the_size_ik_llama_cpp_reports_for_llama_3_8b(catalog):
    # llama-bench in ik_llama.cpp PR #428 and issue #92: "llama 8B IQ4_KS - 4.25 bpw | 4.14 GiB | 8.03 B"
    layout = SizingEngine(catalog).sized_at(catalog.model("llama-3.1-8b"), "IQ4_KS").layout
    assert layout.file_bytes / GIB == pytest.approx(4.14, rel=0.015)


def test_a_file_name_with_an_ik_type_resolves_to_it_with_nothing_to_state(catalog):
    r = Resolver(catalog).model("Qwen3-30B-A3B-IQ4_KS.gguf")
    assert r.quant.file_type.name == "IQ4_KS"
    assert r.assumptions == []


def test_an_unsloth_dynamic_label_is_still_a_stated_substitution(catalog):
    q = Resolver(catalog).quant("UD-Q4_K_XL")
    assert q.file_type.name == "Q4_K_M"
    assert "closest standard type" in q.note
