// Vectors for GgmlBlockDecoderTest from llama.cpp itself (the ggml source node-llama-cpp@3.21.1 ships, commit 80fb11a):
// deterministic data quantized by ggml_quantize_chunk (the reference quantizers) and dequantized by ggml's
// type_traits to_float, printed as JSON. Build ggml-base outside this tree (cmake, target ggml-base, Release), then
//   gcc -O2 -I ggml/include llamacpp_vectors.c libggml-base.a -lm -lstdc++ -lpthread -fopenmp -o v && ./v > llamacpp-vectors.json
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include "ggml.h"

static uint64_t state = 0x9E3779B97F4A7C15ull;
static double uniform(void) { state = state * 6364136223846793005ull + 1442695040888963407ull; return ((state >> 11) * (1.0 / 9007199254740992.0)); }
static float gauss(void) { double u = uniform() + 1e-12, v = uniform(); return (float) (sqrt(-2 * log(u)) * cos(6.283185307179586 * v)); }

static void hex(const void * p, size_t n) { const uint8_t * b = p; for (size_t i = 0; i < n; i++) printf("%02x", b[i]); }

int main(void) {
    enum ggml_type types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    const int nrows = 2, n_per_row = 512;
    printf("{\n \"source\": \"llama.cpp ggml_quantize_chunk + type_traits to_float\",\n \"types\": {\n");
    for (int t = 0; t < 7; t++) {
        float src[2 * 512], out[2 * 512];
        for (int i = 0; i < nrows * n_per_row; i++) src[i] = gauss() * (i % 97 == 0 ? 8.0f : 1.0f) * 0.02f;
        size_t row = ggml_row_size(types[t], n_per_row);
        uint8_t * q = malloc(row * nrows);
        size_t written = ggml_quantize_chunk(types[t], src, q, 0, nrows, n_per_row, NULL);
        if (written != row * nrows) { fprintf(stderr, "size mismatch\n"); return 1; }
        ggml_get_type_traits(types[t])->to_float(q, out, nrows * n_per_row);
        printf("  \"%s\": {\"blocks\": %d, \"bytes\": \"", ggml_type_name(types[t]), (int) (nrows * n_per_row / ggml_blck_size(types[t])));
        hex(q, row * nrows);
        printf("\", \"float32le\": \"");
        hex(out, sizeof(float) * nrows * n_per_row);
        printf("\"}%s\n", t < 6 ? "," : "");
        free(q);
    }
    printf(" }\n}\n");
    return 0;
}
