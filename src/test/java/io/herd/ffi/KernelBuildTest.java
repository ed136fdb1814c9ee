package io.herd.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** The Maven build compiles src/native into the fatbin whenever nvcc is available. */
class KernelBuildTest {
    private static boolean nvccAvailable() {
        if (Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"))) return true;
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(":")).anyMatch(d -> !d.isBlank() && Files.isExecutable(Path.of(d, "nvcc")));
    }

    @Test
    void fatbinIsBundledWhenNvccExistsAndHoldsEveryEntryPoint() {
        if (!nvccAvailable()) {
            assertThat(HerdKernels.bundled()).as("no nvcc, so no kernels").isFalse();
            return;
        }
        assertThat(HerdKernels.bundled()).as("nvcc exists, so the build must have produced " + HerdKernels.RESOURCE)
                .isTrue();
        String image = new String(HerdKernels.image(), StandardCharsets.ISO_8859_1);
        for (String kernel : new String[] {"herd_linear_int4", "herd_linear_wide_int8", "herd_linear_bf16",
                "herd_rmsnorm_f32", "herd_attn_prep_bf16", "herd_attention_decode_f32", "herd_attention_prefill_bf16",
                "herd_router_topk_sigmoid_f32", "herd_moe_route", "herd_moe_permute_f32", "herd_moe_permute_quantize_f32",
                "herd_moe_unpermute_add_f32",
                "herd_silu_mul_f32", "herd_argmax_f32", "herd_quantize_int4_bf16", "herd_transpose_bf16",
                "herd_quantize_act_q8", "herd_attention_decode_hd128_bf16",
                "herd_attention_split_hd128_bf16", "herd_attention_split_hd128_f32", "herd_attention_merge_hd128",
                "herd_linear_tiled_int4", "herd_linear_tiled_wide_int4", "herd_linear_splitk_single_int4",
                "herd_dequant_int4_bf16",
                "herd_dequant_int8_bf16", "herd_router_fused_f32", "herd_attention_gqa_hd128_bf16",
                "herd_attention_gqa_hd128_f32", "herd_argmax_partial_f32", "herd_argmax_final",
                "herd_quantize_act_q8_silu", "herd_rmsnorm_quantize_f32"}) {
            assertThat(image).as(kernel).contains(kernel);
        }
    }
}
