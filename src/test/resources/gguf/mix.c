// Made tiny-llama4-mixed.gguf: gcc -O2 -I ggml/include mix.c libggml-base.a -lm -lstdc++ -lpthread -fopenmp -o mix
// && python3 make_tiny_llama4_f32.py && ./mix tiny-llama4-f32.gguf tiny-llama4-mixed.gguf (ggml-base of llama.cpp 80fb11a, the
// source node-llama-cpp@3.21.1 ships, built outside this tree; make_tiny_llama4_f32.py writes with gguf-py 0.19.0).
// Writes a mixed-type copy of an F32 llama4 GGUF with ggml's own gguf writer and quantizers (ggml_quantize_chunk),
// the way llama-quantize mixes types in a Q4_K_M file, plus one tensor of every other type Herd reads.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ggml.h"
#include "gguf.h"

static enum ggml_type pick(const char * name, int n_dims, int64_t ne0) {
    static const struct { const char * name; enum ggml_type type; } special[] = {
        {"blk.0.attn_q.weight", GGML_TYPE_Q5_K}, {"blk.0.attn_k.weight", GGML_TYPE_Q8_0},
        {"blk.0.ffn_gate.weight", GGML_TYPE_Q5_0}, {"blk.0.ffn_up.weight", GGML_TYPE_Q4_1},
        {"blk.2.attn_q.weight", GGML_TYPE_Q4_0}, {"blk.2.ffn_up.weight", GGML_TYPE_BF16},
        {"blk.2.ffn_gate.weight", GGML_TYPE_F16}, {"blk.1.ffn_gate_inp.weight", GGML_TYPE_F32},
        {"blk.3.ffn_gate_inp.weight", GGML_TYPE_F32},
    };
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcmp(name, special[i].name) == 0) return special[i].type;
    if (n_dims < 2 || ne0 % 256 != 0) return GGML_TYPE_F32;
    if (strstr(name, "attn_v") || strstr(name, "ffn_down") || strcmp(name, "output.weight") == 0) return GGML_TYPE_Q6_K;
    return GGML_TYPE_Q4_K;
}

int main(int argc, char ** argv) {
    if (argc != 3) { fprintf(stderr, "usage: mix IN.gguf OUT.gguf\n"); return 2; }
    struct ggml_context * in_data = NULL;
    struct gguf_init_params ip = { .no_alloc = false, .ctx = &in_data };
    struct gguf_context * in = gguf_init_from_file(argv[1], ip);
    if (!in) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    struct ggml_init_params cp = { .mem_size = 64u << 20, .mem_buffer = NULL, .no_alloc = false };
    struct ggml_context * ctx = ggml_init(cp);
    struct gguf_context * out = gguf_init_empty();
    gguf_set_kv(out, in);
    gguf_set_val_u32(out, "general.file_type", 15); // LLAMA_FTYPE_MOSTLY_Q4_K_M
    for (int64_t i = 0; i < gguf_get_n_tensors(in); i++) {
        const char * name = gguf_get_tensor_name(in, i);
        struct ggml_tensor * src = ggml_get_tensor(in_data, name);
        int n_dims = ggml_n_dims(src);
        enum ggml_type type = pick(name, n_dims, src->ne[0]);
        struct ggml_tensor * dst = ggml_new_tensor(ctx, type, GGML_MAX_DIMS, src->ne);
        ggml_set_name(dst, name);
        const float * x = src->data;
        int64_t n = ggml_nelements(src), rows = n / src->ne[0];
        if (type == GGML_TYPE_F32) memcpy(dst->data, x, n * sizeof(float));
        else if (type == GGML_TYPE_F16) ggml_fp32_to_fp16_row(x, dst->data, n);
        else if (type == GGML_TYPE_BF16) ggml_fp32_to_bf16_row(x, dst->data, n);
        else ggml_quantize_chunk(type, x, dst->data, 0, rows, src->ne[0], NULL);
        gguf_add_tensor(out, dst);
        printf("%-28s %s\n", name, ggml_type_name(type));
    }
    if (!gguf_write_to_file(out, argv[2], false)) { fprintf(stderr, "cannot write %s\n", argv[2]); return 1; }
    return 0;
}
