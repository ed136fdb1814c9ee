"""Dequantization vectors for GgmlBlockDecoderTest, from llama.cpp's own Python package (gguf-py, pip "gguf").

Random blocks (seeded) of each block format Herd decodes, with every f16 scale set to a finite value, dequantized by
gguf.quants.dequantize; written as hex of the block bytes and of the expected little-endian float32 values.
Run: pip install gguf==0.19.0 numpy && python3 make_vectors.py > dequant-vectors.json
"""
import json

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize
from gguf.constants import GGML_QUANT_SIZES

# Byte offsets of the f16 scales inside each block (ggml-common.h).
HALVES = {T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q8_0: [0], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}
BLOCKS = 6

rng = np.random.default_rng(20261207)
out = {"source": "gguf-py 0.19.0 gguf.quants.dequantize", "types": {}}
for t, offsets in HALVES.items():
    block_size, type_size = GGML_QUANT_SIZES[t]
    raw = rng.integers(0, 256, size=(BLOCKS, type_size), dtype=np.uint8)
    for b in range(BLOCKS):
        for off in offsets:
            # |scale| in [2^-14, 2^2): normal halves of both signs, some tiny, none Inf/NaN.
            h = np.float16(rng.uniform(-4, 4) * (2.0 ** -rng.integers(0, 12)))
            raw[b, off:off + 2] = np.frombuffer(h.tobytes(), dtype=np.uint8)
    values = dequantize(raw.reshape(-1), t).astype("<f4")
    assert values.size == BLOCKS * block_size
    out["types"][t.name] = {"blocks": BLOCKS, "bytes": raw.tobytes().hex(), "float32le": values.tobytes().hex()}
print(json.dumps(out, indent=1))
