"""A random-weight llama4 model (4 layers, d 256, 2 experts, byte vocabulary) in F32, written with gguf-py 0.19.0
(pip gguf): the input mix.c turns into tiny-llama4-mixed.gguf."""
import numpy as np, gguf
rng = np.random.default_rng(7)
d, L, H, KV, hd, nE, f, fm, V = 256, 4, 4, 2, 64, 2, 256, 512, 512
w = gguf.GGUFWriter("tiny-llama4-f32.gguf", "llama4")
w.add_name("herd test llama4 (random weights)")
w.add_vocab_size(V); w.add_context_length(4096); w.add_embedding_length(d); w.add_block_count(L)
w.add_feed_forward_length(fm); w.add_expert_feed_forward_length(f); w.add_interleave_moe_layer_step(2)
w.add_expert_count(nE); w.add_expert_used_count(1); w.add_head_count(H); w.add_head_count_kv(KV)
w.add_key_length(hd); w.add_value_length(hd); w.add_layer_norm_rms_eps(1e-5); w.add_rope_dimension_count(hd)
w.add_rope_freq_base(500000.0)
w.add_file_type(gguf.LlamaFileType.ALL_F32)
# byte-level vocabulary: 256 byte symbols, then control tokens
bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs: bs.append(b); cs.append(256 + n); n += 1
sym = {b: chr(c) for b, c in zip(bs, cs)}
toks = [sym[b] for b in range(256)] + ["<|begin_of_text|>", "<|end_of_text|>"] + [f"<|reserved_special_token_{i}|>" for i in range(V - 258)]
w.add_tokenizer_model("gpt2"); w.add_tokenizer_pre("llama4"); w.add_token_list(toks)
w.add_token_types([1] * 256 + [3] * (V - 256)); w.add_token_merges([]); w.add_bos_token_id(256); w.add_eos_token_id(257)
def g(*shape, std=1.0): return (rng.standard_normal(shape) * std).astype(np.float32)
w.add_tensor("token_embd.weight", g(V, d))
w.add_tensor("output_norm.weight", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))
w.add_tensor("output.weight", g(V, d, std=d ** -0.5))
plain = 1.0 / (500000.0 ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
wl = 2 * np.pi / plain
w.add_tensor("rope_freqs.weight", np.where(wl < 8192, 1.0, 16.0).astype(np.float32))
for i in range(L):
    b = f"blk.{i}."
    w.add_tensor(b + "attn_norm.weight", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))
    w.add_tensor(b + "ffn_norm.weight", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))
    w.add_tensor(b + "attn_q.weight", g(H * hd, d, std=d ** -0.5))
    w.add_tensor(b + "attn_k.weight", g(KV * hd, d, std=d ** -0.5))
    w.add_tensor(b + "attn_v.weight", g(KV * hd, d, std=d ** -0.5))
    w.add_tensor(b + "attn_output.weight", g(d, H * hd, std=(H * hd) ** -0.5))
    if (i + 1) % 2 == 0:
        w.add_tensor(b + "ffn_gate_inp.weight", g(nE, d, std=3 * d ** -0.5))
        w.add_tensor(b + "ffn_gate_exps.weight", g(nE, f, d, std=d ** -0.5))
        w.add_tensor(b + "ffn_up_exps.weight", g(nE, f, d, std=d ** -0.5))
        w.add_tensor(b + "ffn_down_exps.weight", g(nE, d, f, std=f ** -0.5))
        w.add_tensor(b + "ffn_gate_shexp.weight", g(f, d, std=d ** -0.5))
        w.add_tensor(b + "ffn_up_shexp.weight", g(f, d, std=d ** -0.5))
        w.add_tensor(b + "ffn_down_shexp.weight", g(d, f, std=f ** -0.5))
    else:
        w.add_tensor(b + "ffn_gate.weight", g(fm, d, std=d ** -0.5))
        w.add_tensor(b + "ffn_up.weight", g(fm, d, std=d ** -0.5))
        w.add_tensor(b + "ffn_down.weight", g(d, fm, std=fm ** -0.5))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
