/*
 * Herd's CPU matmul kernels in C, for what the Java Vector API cannot express or compile well: integer dot products
 * (AVX-512 VNNI), software prefetch, and register tiles wider than its code keeps in registers. Three families:
 * one token (decode GEMVs over Q8 and BF16 weights), a few tokens (2-63) and many tokens (prefill GEMM). Called
 * through FFM from io.herd.ffi.CpuKernels; every kernel has a Vector API twin in io.herd.compute.cpu that runs
 * wherever this library is absent or the CPU lacks the instructions.
 *
 * The file is compiled for plain x86-64; only the kernels carry the AVX-512 target attribute, so
 * herd_cpu_features() is safe to call on any x86-64 CPU.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HERD_Q8_GEMV 1
#define HERD_BF16_GEMV 2

/* Bit HERD_Q8_GEMV: the Q8 kernels (herd_q8_*, herd_gemm_tokens on Q8) may run here, which need VNNI; bit
 * HERD_BF16_GEMV: the BF16 ones and herd_transpose_tokens, which need AVX-512 F/BW/VL. */
int herd_cpu_features(void) {
    __builtin_cpu_init();
    int features = 0;
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                 && __builtin_cpu_supports("avx512vl");
    if (avx512) features |= HERD_BF16_GEMV;
    if (avx512 && __builtin_cpu_supports("avx512vnni")) features |= HERD_Q8_GEMV;
    return features;
}

#define KERNEL __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))
#define KERNEL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

/*
 * Activations to int16, one scale per 32 values: xs[c] = absmax / 32767, xq = round(x / xs). The int16 rounding
 * error (at most 1/65534 of a group's largest value) is far below the int8 weights' own (1/254), so decode keeps
 * the accuracy of fp32 activations. n is a multiple of 32.
 */
KERNEL void herd_q8_quantize_activations(const float *x, int n, int16_t *xq, float *xs) {
    for (int c = 0; c < n / 32; c++) {
        __m512 a = _mm512_loadu_ps(x + 32 * c), b = _mm512_loadu_ps(x + 32 * c + 16);
        float absmax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
        int nan = _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
        if (nan || !(absmax > 0.0f) || !isfinite(absmax)) {
            /* All zero: exact zeros. NaN or infinite: a NaN scale, so the dot products come out NaN. */
            xs[c] = nan || absmax > 0.0f ? NAN : 0.0f;
            _mm512_storeu_si512(xq + 32 * c, _mm512_setzero_si512());
            continue;
        }
        xs[c] = absmax / 32767.0f;
        __m512 inv = _mm512_set1_ps(32767.0f / absmax);
        __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, inv)), qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, inv));
        /* Products may round one ulp past 32767: saturate when narrowing. */
        __m512i packed = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), _mm512_packs_epi32(qa, qb));
        _mm512_storeu_si512(xq + 32 * c, packed);
    }
}

/*
 * The combined scale of every 32-value chunk of one row: weight scale (fp16, one per group) times activation scale.
 * Group sizes are multiples of 32, so a chunk never straddles two groups; chunk_group maps chunks to groups. In
 * vectors: a scalar loop here cost as much as the row's dot products, a gather a third as much.
 */
KERNEL static void chunk_scales(const uint16_t *row_scales, int n_groups, int group_size, const float *xs,
                                const int32_t *chunk_group, int n_chunks, float *cs) {
    int c = 0;
    if (group_size == 32) {
        for (; c + 16 <= n_chunks; c += 16) {
            __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row_scales + c)));
            _mm512_storeu_ps(cs + c, _mm512_mul_ps(w, _mm512_loadu_ps(xs + c)));
        }
        for (; c < n_chunks; c++) cs[c] = _cvtsh_ss(row_scales[c]) * xs[c];
        return;
    }
    /* Sixteen chunks span at most sixteen groups: widen those scales and spread them over the chunks' lanes. */
    for (; c + 16 <= n_chunks; c += 16) {
        int g0 = chunk_group[c], left = n_groups - g0;
        __mmask16 present = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 w = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(present, row_scales + g0));
        __m512i lane = _mm512_sub_epi32(_mm512_loadu_si512(chunk_group + c), _mm512_set1_epi32(g0));
        _mm512_storeu_ps(cs + c, _mm512_mul_ps(_mm512_permutexvar_ps(lane, w), _mm512_loadu_ps(xs + c)));
    }
    for (; c < n_chunks; c++) cs[c] = _cvtsh_ss(row_scales[chunk_group[c]]) * xs[c];
}

/* How far ahead each row's stream is prefetched (512 and 1024 bytes were best, 3072 no better than none): with
 * four streams per core, the hardware prefetchers alone kept a core at two thirds of what one stream gets. */
#define PREFETCH_BYTES 1024

/* Rows side by side: four streams in flight per core (two streamed 15% slower, eight no faster). */
#define ROW_TILE 4

/* One 32-weight chunk of one row: exact int32 dot products of pairs (vpdpwssd), then scaled into fp32 lanes. */
#define CHUNK(acc, wrow, scale) \
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpwssd_epi32(zero, \
            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)((wrow) + 32 * c))), xv)), \
            _mm512_set1_ps(scale), acc)

/*
 * y[o] = Σ_i values[o, i] · scale[o, i / group_size] · x[i] for o in [o0, o1), x given as herd_q8_quantize_activations
 * made it. A row's result does not depend on the tiling (the tail rows repeat the tile's operations), so it does
 * not depend on how the rows were split between threads. n_in is a multiple of 32, group_size too.
 */
KERNEL void herd_q8_gemv(const int8_t *values, const uint16_t *scales, int n_in, int group_size,
                         const int16_t *xq, const float *xs, float *y, long o0, long o1) {
    const int n_chunks = n_in / 32, n_groups = (n_in + group_size - 1) / group_size;
    const __m512i zero = _mm512_setzero_si512();
    float cs[ROW_TILE * n_chunks];
    int32_t chunk_group[n_chunks];
    for (int c = 0, g = 0, k = 0, per_group = group_size / 32; c < n_chunks; c++) {
        chunk_group[c] = g;
        if (++k == per_group) k = 0, g++;
    }
    long o = o0;
    for (; o + ROW_TILE <= o1; o += ROW_TILE) {
        for (int r = 0; r < ROW_TILE; r++)
            chunk_scales(scales + (o + r) * n_groups, n_groups, group_size, xs, chunk_group, n_chunks, cs + r * n_chunks);
        const int8_t *w = values + o * n_in;
        __m512 acc[ROW_TILE];
#pragma GCC unroll 16
        for (int r = 0; r < ROW_TILE; r++) acc[r] = _mm512_setzero_ps();
        for (int c = 0; c < n_chunks; c++) {
            if ((c & 1) == 0) {
                /* Near a row's end, each stream prefetches the start of its row in the next tile: read straight on,
                 * it would reach the next row of this tile, which its own stream already covers. */
                long ahead = 32L * c + PREFETCH_BYTES;
                ahead += ahead >= n_in ? (long)(ROW_TILE - 1) * n_in : 0;
#pragma GCC unroll 16
                for (int r = 0; r < ROW_TILE; r++)
                    _mm_prefetch((const char *)(w + (long)r * n_in + ahead), _MM_HINT_T0);
            }
            __m512i xv = _mm512_loadu_si512(xq + 32 * c);
#pragma GCC unroll 16
            for (int r = 0; r < ROW_TILE; r++) CHUNK(acc[r], w + (long)r * n_in, cs[r * n_chunks + c]);
        }
#pragma GCC unroll 16
        for (int r = 0; r < ROW_TILE; r++) y[o + r] = _mm512_reduce_add_ps(acc[r]);
    }
    for (; o < o1; o++) {
        chunk_scales(scales + o * n_groups, n_groups, group_size, xs, chunk_group, n_chunks, cs);
        const int8_t *w0 = values + o * n_in;
        __m512 a0 = _mm512_setzero_ps();
        for (int c = 0; c < n_chunks; c++) {
            __m512i xv = _mm512_loadu_si512(xq + 32 * c);
            CHUNK(a0, w0, cs[c]);
        }
        y[o] = _mm512_reduce_add_ps(a0);
    }
}

/* One 32-value run of one BF16 row: the 16 ints loaded hold pairs, the even value widened by a shift, the odd one
 * by a mask, against x split the same way (even inputs, then odd ones). */
#define BF16_RUN(acc, wrow) do { \
        __m512i v = _mm512_loadu_si512((wrow) + 2 * j); \
        acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), even, \
                _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), odd, acc)); \
    } while (0)

/* Rows side by side for BF16: as many streams as the Vector API kernel, which found eight faster than four. */
#define BF16_ROW_TILE 8

/*
 * Row-major BF16: y[o] = Σ_i w[o, i] · x[i] for o in [o0, o1). x_pairs is x split as GemvKernels.bf16Pairs does:
 * the even inputs, then the odd ones (n_in / 2 each). n_in is a multiple of 32. Products are exact in fp32, as in
 * the Vector API kernel; only the order of the sums differs.
 */
KERNEL_AVX512 void herd_bf16_gemv(const uint16_t *w, int n_in, const float *x_pairs, float *y, long o0, long o1) {
    const int half = n_in / 2;
    const __m512i high = _mm512_set1_epi32((int)0xffff0000u);
    long o = o0;
    for (; o + BF16_ROW_TILE <= o1; o += BF16_ROW_TILE) {
        const uint16_t *w0 = w + o * n_in;
        __m512 acc[BF16_ROW_TILE];
#pragma GCC unroll 16
        for (int r = 0; r < BF16_ROW_TILE; r++) acc[r] = _mm512_setzero_ps();
        for (int j = 0; j < half; j += 16) {
            /* As in herd_q8_gemv: near a row's end, the start of its row in the next tile. */
            long ahead = 4L * j + PREFETCH_BYTES;
            ahead += ahead >= 2L * n_in ? (long)(BF16_ROW_TILE - 1) * 2 * n_in : 0;
#pragma GCC unroll 16
            for (int r = 0; r < BF16_ROW_TILE; r++)
                _mm_prefetch((const char *)(w0 + (long)r * n_in) + ahead, _MM_HINT_T0);
            __m512 even = _mm512_loadu_ps(x_pairs + j), odd = _mm512_loadu_ps(x_pairs + half + j);
#pragma GCC unroll 16
            for (int r = 0; r < BF16_ROW_TILE; r++) BF16_RUN(acc[r], w0 + (long)r * n_in);
        }
#pragma GCC unroll 16
        for (int r = 0; r < BF16_ROW_TILE; r++) y[o + r] = _mm512_reduce_add_ps(acc[r]);
    }
    for (; o < o1; o++) {
        const uint16_t *w0 = w + o * n_in;
        __m512 acc = _mm512_setzero_ps();
        for (int j = 0; j < half; j += 16) {
            __m512 even = _mm512_loadu_ps(x_pairs + j), odd = _mm512_loadu_ps(x_pairs + half + j);
            BF16_RUN(acc, w0);
        }
        y[o] = _mm512_reduce_add_ps(acc);
    }
}

/* Stored rows combined per pass over the outputs in the input-major kernel: eight streams, and each output vector
 * loaded and stored once per eight rows. */
#define AXPY_ROWS 8

static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,fma"))) __m512
bf16_widen(const uint16_t *p, __mmask16 mask) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p)), 16));
}

/*
 * Input-major BF16 [n_in, n_out] (the fused expert tensors of Hugging Face checkpoints): acc[o] += Σ_i x[i] · w[i, o]
 * over stored rows i in [i0, i1) and every output o. Eight rows per pass; a last partial vector of outputs is masked.
 */
KERNEL_AVX512 void herd_bf16_axpy(const uint16_t *w, long n_out, const float *x, long i0, long i1, float *acc) {
    long i = i0;
    for (; i + AXPY_ROWS <= i1; i += AXPY_ROWS) {
        const uint16_t *r0 = w + i * n_out;
        __m512 xb[AXPY_ROWS];
#pragma GCC unroll 16
        for (int r = 0; r < AXPY_ROWS; r++) xb[r] = _mm512_set1_ps(x[i + r]);
        for (long o = 0; o < n_out; o += 16) {
            __mmask16 mask = n_out - o >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_out - o)) - 1);
            if ((o & 31) == 0) {
#pragma GCC unroll 16
                for (int r = 0; r < AXPY_ROWS; r++)
                    _mm_prefetch((const char *)(r0 + r * n_out + o) + PREFETCH_BYTES, _MM_HINT_T0);
            }
            __m512 a = _mm512_maskz_loadu_ps(mask, acc + o);
#pragma GCC unroll 16
            for (int r = 0; r < AXPY_ROWS; r++) a = _mm512_fmadd_ps(bf16_widen(r0 + r * n_out + o, mask), xb[r], a);
            _mm512_mask_storeu_ps(acc + o, mask, a);
        }
    }
    for (; i < i1; i++) {
        const uint16_t *r0 = w + i * n_out;
        __m512 xi = _mm512_set1_ps(x[i]);
        for (long o = 0; o < n_out; o += 16) {
            __mmask16 mask = n_out - o >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_out - o)) - 1);
            _mm512_mask_storeu_ps(acc + o, mask,
                    _mm512_fmadd_ps(bf16_widen(r0 + o, mask), xi, _mm512_maskz_loadu_ps(mask, acc + o)));
        }
    }
}

/* ---- A few tokens (2-63): batched decode and the routed experts of a prefill. Compute-bound: each weight vector
 * is widened once and feeds every token of a tile, each token vector feeds four rows. ---- */

#define TOKEN_TILE 4
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,fma")))

AVX512_INLINE void tile_zero(__m512 acc[4][TOKEN_TILE], int nt) {
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) acc[r][t] = _mm512_setzero_ps();
}

/* A finished 4-row × nt-token tile into y [tokens, n_out]. */
AVX512_INLINE void tile_store(__m512 acc[4][TOKEN_TILE], int nt, float *y, long n_out, long o, int t0) {
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) y[(long)(t0 + t) * n_out + o + r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* Four BF16 rows × nt tokens (nt ≤ TOKEN_TILE, a constant where inlined) over all inputs, x split in pairs per token. */
AVX512_INLINE void bf16_rows4_tile(const uint16_t *w0, int n_in, const float *x_pairs, int nt, float *y, long n_out,
                                   long o, int t0) {
    const int half = n_in / 2;
    const __m512i high = _mm512_set1_epi32((int)0xffff0000u);
    __m512 acc[4][TOKEN_TILE];
    tile_zero(acc, nt);
    for (int j = 0; j < half; j += 16) {
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
            _mm_prefetch((const char *)(w0 + (long)r * n_in + 2 * j) + PREFETCH_BYTES, _MM_HINT_T0);
        __m512 even[TOKEN_TILE], odd[TOKEN_TILE];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            even[t] = _mm512_loadu_ps(x_pairs + (long)(t0 + t) * n_in + j);
            odd[t] = _mm512_loadu_ps(x_pairs + (long)(t0 + t) * n_in + half + j);
        }
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            __m512i v = _mm512_loadu_si512(w0 + (long)r * n_in + 2 * j);
            __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), hi = _mm512_castsi512_ps(_mm512_and_si512(v, high));
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++) acc[r][t] = _mm512_fmadd_ps(lo, even[t], _mm512_fmadd_ps(hi, odd[t], acc[r][t]));
        }
    }
    tile_store(acc, nt, y, n_out, o, t0);
}

/*
 * Row-major BF16 [n_out, n_in] × n_tokens: y[t, o] = Σ_i w[o, i] · x[t, i] for o in [o0, o1). x_pairs holds each token's
 * x split as herd_bf16_gemv takes it (n_tokens × n_in floats); y is [n_tokens, n_out]. n_in is a multiple of 32.
 */
KERNEL_AVX512 void herd_bf16_rows_tokens(const uint16_t *w, int n_in, const float *x_pairs, int n_tokens, float *y,
                                         long n_out, long o0, long o1) {
    const int half = n_in / 2;
    const __m512i high = _mm512_set1_epi32((int)0xffff0000u);
    long o = o0;
    for (; o + 4 <= o1; o += 4) {
        const uint16_t *w0 = w + o * n_in;
        int t = 0;
        for (; t + 4 <= n_tokens; t += 4) bf16_rows4_tile(w0, n_in, x_pairs, 4, y, n_out, o, t);
        switch (n_tokens - t) {
            case 3: bf16_rows4_tile(w0, n_in, x_pairs, 3, y, n_out, o, t); break;
            case 2: bf16_rows4_tile(w0, n_in, x_pairs, 2, y, n_out, o, t); break;
            case 1: bf16_rows4_tile(w0, n_in, x_pairs, 1, y, n_out, o, t); break;
            default: break;
        }
    }
    for (; o < o1; o++) {
        const uint16_t *w0 = w + o * n_in;
        for (int t = 0; t < n_tokens; t++) {
            const float *xp = x_pairs + (long)t * n_in;
            __m512 acc = _mm512_setzero_ps();
            for (int j = 0; j < half; j += 16) {
                __m512i v = _mm512_loadu_si512(w0 + 2 * j);
                acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), _mm512_loadu_ps(xp + j),
                        _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), _mm512_loadu_ps(xp + half + j), acc));
            }
            y[(long)t * n_out + o] = _mm512_reduce_add_ps(acc);
        }
    }
}

/* Sixteen int8 weights widened to fp32 and scaled. */
AVX512_INLINE __m512 q8_widen16(const int8_t *p, __m512 scale) {
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p))), scale);
}

/* Four Q8 rows × nt tokens: each 32-weight chunk widened to fp32 and scaled once (ws: the rows' chunk scales). */
AVX512_INLINE void q8_rows4_tile(const int8_t *w0, int n_in, const float *ws, const float *x, int nt, float *y,
                                 long n_out, long o, int t0) {
    const int n_chunks = n_in / 32;
    __m512 acc[4][TOKEN_TILE];
    tile_zero(acc, nt);
    for (int c = 0; c < n_chunks; c++) {
        if ((c & 1) == 0) {
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++)
                _mm_prefetch((const char *)(w0 + (long)r * n_in + 32 * c) + PREFETCH_BYTES, _MM_HINT_T0);
        }
        __m512 xa[TOKEN_TILE], xb[TOKEN_TILE];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            xa[t] = _mm512_loadu_ps(x + (long)(t0 + t) * n_in + 32 * c);
            xb[t] = _mm512_loadu_ps(x + (long)(t0 + t) * n_in + 32 * c + 16);
        }
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            const int8_t *p = w0 + (long)r * n_in + 32 * c;
            __m512 s = _mm512_set1_ps(ws[r * n_chunks + c]);
            __m512 wa = q8_widen16(p, s), wb = q8_widen16(p + 16, s);
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++) acc[r][t] = _mm512_fmadd_ps(wb, xb[t], _mm512_fmadd_ps(wa, xa[t], acc[r][t]));
        }
    }
    tile_store(acc, nt, y, n_out, o, t0);
}

/*
 * Q8 rows × n_tokens with fp32 activations: y[t, o] = Σ_i values[o, i] · scale[o, i / group_size] · x[t, i] for o in
 * [o0, o1); x is [n_tokens, n_in], y [n_tokens, n_out]. n_in and group_size are multiples of 32.
 */
KERNEL void herd_q8_rows_tokens(const int8_t *values, const uint16_t *scales, int n_in, int group_size, const float *x,
                                int n_tokens, float *y, long n_out, long o0, long o1) {
    const int n_chunks = n_in / 32, n_groups = (n_in + group_size - 1) / group_size;
    float ws[4 * n_chunks], ones[n_chunks];
    int32_t chunk_group[n_chunks];
    for (int c = 0, g = 0, k = 0, per_group = group_size / 32; c < n_chunks; c++) {
        chunk_group[c] = g;
        ones[c] = 1.0f;
        if (++k == per_group) k = 0, g++;
    }
    long o = o0;
    for (; o + 4 <= o1; o += 4) {
        for (int r = 0; r < 4; r++)
            chunk_scales(scales + (o + r) * n_groups, n_groups, group_size, ones, chunk_group, n_chunks, ws + r * n_chunks);
        const int8_t *w0 = values + o * n_in;
        int t = 0;
        for (; t + 4 <= n_tokens; t += 4) q8_rows4_tile(w0, n_in, ws, x, 4, y, n_out, o, t);
        switch (n_tokens - t) {
            case 3: q8_rows4_tile(w0, n_in, ws, x, 3, y, n_out, o, t); break;
            case 2: q8_rows4_tile(w0, n_in, ws, x, 2, y, n_out, o, t); break;
            case 1: q8_rows4_tile(w0, n_in, ws, x, 1, y, n_out, o, t); break;
            default: break;
        }
    }
    for (; o < o1; o++) {
        chunk_scales(scales + o * n_groups, n_groups, group_size, ones, chunk_group, n_chunks, ws);
        const int8_t *w0 = values + o * n_in;
        for (int t = 0; t < n_tokens; t++) {
            __m512 acc = _mm512_setzero_ps();
            for (int c = 0; c < n_chunks; c++) {
                const int8_t *p = w0 + 32 * c;
                __m512 s = _mm512_set1_ps(ws[c]);
                __m512 wa = q8_widen16(p, s), wb = q8_widen16(p + 16, s);
                acc = _mm512_fmadd_ps(wb, _mm512_loadu_ps(x + (long)t * n_in + 32 * c + 16),
                        _mm512_fmadd_ps(wa, _mm512_loadu_ps(x + (long)t * n_in + 32 * c), acc));
            }
            y[(long)t * n_out + o] = _mm512_reduce_add_ps(acc);
        }
    }
}

#define AXPY_TOKEN_TILE 8

/* Eight input-major BF16 rows × nt tokens (nt ≤ AXPY_TOKEN_TILE) into acc[t, :], every output. */
AVX512_INLINE void bf16_axpy8_tile(const uint16_t *r0, long n_out, const float *x, int n_in, int nt, long i, int t0,
                                   float *acc) {
    for (long o = 0; o < n_out; o += 16) {
        __mmask16 mask = n_out - o >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_out - o)) - 1);
        if ((o & 31) == 0 && t0 == 0) {
#pragma GCC unroll 8
            for (int r = 0; r < AXPY_ROWS; r++)
                _mm_prefetch((const char *)(r0 + r * n_out + o) + PREFETCH_BYTES, _MM_HINT_T0);
        }
        __m512 a[AXPY_TOKEN_TILE];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) a[t] = _mm512_maskz_loadu_ps(mask, acc + (long)(t0 + t) * n_out + o);
#pragma GCC unroll 8
        for (int r = 0; r < AXPY_ROWS; r++) {
            __m512 wv = bf16_widen(r0 + r * n_out + o, mask);
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++)
                a[t] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[(long)(t0 + t) * n_in + i + r]), a[t]);
        }
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) _mm512_mask_storeu_ps(acc + (long)(t0 + t) * n_out + o, mask, a[t]);
    }
}

/*
 * Input-major BF16 [n_in, n_out] × n_tokens: acc[t, o] += Σ_i x[t, i] · w[i, o] over stored rows i in [i0, i1); x is
 * [n_tokens, n_in], acc [n_tokens, n_out].
 */
KERNEL_AVX512 void herd_bf16_axpy_tokens(const uint16_t *w, long n_out, const float *x, int n_in, int n_tokens,
                                         long i0, long i1, float *acc) {
    long i = i0;
    for (; i + AXPY_ROWS <= i1; i += AXPY_ROWS) {
        const uint16_t *r0 = w + i * n_out;
        int t = 0;
        for (; t + AXPY_TOKEN_TILE <= n_tokens; t += AXPY_TOKEN_TILE)
            bf16_axpy8_tile(r0, n_out, x, n_in, AXPY_TOKEN_TILE, i, t, acc);
        switch (n_tokens - t) {
            case 7: bf16_axpy8_tile(r0, n_out, x, n_in, 7, i, t, acc); break;
            case 6: bf16_axpy8_tile(r0, n_out, x, n_in, 6, i, t, acc); break;
            case 5: bf16_axpy8_tile(r0, n_out, x, n_in, 5, i, t, acc); break;
            case 4: bf16_axpy8_tile(r0, n_out, x, n_in, 4, i, t, acc); break;
            case 3: bf16_axpy8_tile(r0, n_out, x, n_in, 3, i, t, acc); break;
            case 2: bf16_axpy8_tile(r0, n_out, x, n_in, 2, i, t, acc); break;
            case 1: bf16_axpy8_tile(r0, n_out, x, n_in, 1, i, t, acc); break;
            default: break;
        }
    }
    for (; i < i1; i++) {
        const uint16_t *r0 = w + i * n_out;
        for (int t = 0; t < n_tokens; t++) {
            __m512 xi = _mm512_set1_ps(x[(long)t * n_in + i]);
            float *a = acc + (long)t * n_out;
            for (long o = 0; o < n_out; o += 16) {
                __mmask16 mask = n_out - o >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n_out - o)) - 1);
                _mm512_mask_storeu_ps(a + o, mask, _mm512_fmadd_ps(bf16_widen(r0 + o, mask), xi, _mm512_maskz_loadu_ps(mask, a + o)));
            }
        }
    }
}

/* ---- Many tokens (prefill): tokens along the vector lanes. A panel of 12 weight rows × GEMM_KC inputs is widened to
 * fp32 once (L1) and each weight, broadcast from it, feeds 32 tokens; the 12 × 32 tile keeps 24 accumulators. The
 * activations are transposed once per matmul (herd_transpose_tokens) and read GEMM_KC inputs at a time (at 128
 * tokens, 128 KB: L2). Partial sums live in a [rows, t_pad] scratch between input blocks. ---- */

#define GEMM_ROWS 12
#define GEMM_KC 256

/*
 * x transposed into blocks of 32 token columns (the last may be 16 wide): block b holds columns [32b, 32b + width)
 * as [n_in][width] at offset 32b · n_in, so a tile walks its inputs through one contiguous run. Tokens n_tokens..t_pad-1
 * are zero; t_pad is a multiple of 16.
 */
KERNEL_AVX512 void herd_transpose_tokens(const float *x, int n_tokens, int n_in, float *xt, int t_pad) {
    for (int c0 = 0; c0 < t_pad; c0 += 32) {
        int width = t_pad - c0 < 32 ? t_pad - c0 : 32;
        float *block = xt + (long)c0 * n_in;
        for (int t = 0; t < width; t++) {
            const float *src = x + (long)(c0 + t) * n_in;
            if (c0 + t < n_tokens) for (int i = 0; i < n_in; i++) block[(long)i * width + t] = src[i];
            else for (int i = 0; i < n_in; i++) block[(long)i * width + t] = 0.0f;
        }
    }
}

/* acc[r][v] += Σ_k panel(r, k) · xb[k · width + 16v]; panel(r, k) at panel[r * r_stride + k * k_stride]. */
AVX512_INLINE void gemm_tile(const float *panel, int r_stride, int k_stride, const float *xb, int width, int kc,
                             int nv, float *acc_io, int t_pad) {
    __m512 acc[GEMM_ROWS][2];
#pragma GCC unroll 12
    for (int r = 0; r < GEMM_ROWS; r++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++) acc[r][v] = _mm512_loadu_ps(acc_io + (long)r * t_pad + 16 * v);
    for (int k = 0; k < kc; k++) {
        const float *xk = xb + (long)k * width;
        __m512 b0 = _mm512_loadu_ps(xk), b1 = nv > 1 ? _mm512_loadu_ps(xk + 16) : b0;
        const float *pk = panel + (long)k * k_stride;
#pragma GCC unroll 12
        for (int r = 0; r < GEMM_ROWS; r++) {
            __m512 w = _mm512_set1_ps(pk[r * r_stride]);
            acc[r][0] = _mm512_fmadd_ps(w, b0, acc[r][0]);
            if (nv > 1) acc[r][1] = _mm512_fmadd_ps(w, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < GEMM_ROWS; r++)
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++) _mm512_storeu_ps(acc_io + (long)r * t_pad + 16 * v, acc[r][v]);
}

#define FORMAT_BF16_ROWS 0
#define FORMAT_Q8_ROWS 1
#define FORMAT_BF16_INPUT_MAJOR 2

/*
 * y[t, o] = Σ_i w[o, i] · x[t, i] for o in [o0, o1) and t < n_tokens, x given transposed (herd_transpose_tokens,
 * t_pad a multiple of 16). format: row-major BF16 [n_out, n_in], Q8 [n_out, n_in] (values, fp16 scales per
 * group_size inputs; group_size a multiple of 32), or input-major BF16 [n_in, n_out]. Returns 0, or -1 when the
 * scratch could not be allocated.
 */
KERNEL int herd_gemm_tokens(int format, const void *w, const uint16_t *scales, long n_out, int n_in, int group_size,
                            const float *xt, int t_pad, int n_tokens, float *y, long o0, long o1) {
    long rows = o1 - o0;
    if (rows <= 0) return 0;
    long n_row_blocks = (rows + GEMM_ROWS - 1) / GEMM_ROWS;
    float *acc = aligned_alloc(64, (size_t)(n_row_blocks * GEMM_ROWS * t_pad * sizeof(float) + 64));
    if (!acc) return -1;
    memset(acc, 0, (size_t)(n_row_blocks * GEMM_ROWS * t_pad * sizeof(float)));
    /* Row-major panels: [GEMM_ROWS][GEMM_KC]; input-major ones: [GEMM_KC][16]. */
    float panel[16 * GEMM_KC] __attribute__((aligned(64)));
    int n_groups = group_size > 0 ? (n_in + group_size - 1) / group_size : 1;
    const int input_major = format == FORMAT_BF16_INPUT_MAJOR;
    for (int k0 = 0; k0 < n_in; k0 += GEMM_KC) {
        int kc = n_in - k0 < GEMM_KC ? n_in - k0 : GEMM_KC;
        for (long b = 0; b < n_row_blocks; b++) {
            long ob = o0 + b * GEMM_ROWS;
            int valid = o1 - ob < GEMM_ROWS ? (int)(o1 - ob) : GEMM_ROWS;
            if (input_major) {
                const uint16_t *wi = (const uint16_t *)w;
                __mmask16 mask = (__mmask16)((1u << valid) - 1);
                for (int k = 0; k < kc; k++)
                    _mm512_store_ps(panel + 16 * k, bf16_widen(wi + (long)(k0 + k) * n_out + ob, mask));
            } else {
                for (int r = 0; r < GEMM_ROWS; r++) {
                    float *dst = panel + r * GEMM_KC;
                    if (r >= valid) {
                        memset(dst, 0, sizeof(float) * GEMM_KC);
                        continue;
                    }
                    if (format == FORMAT_BF16_ROWS) {
                        const uint16_t *src = (const uint16_t *)w + (ob + r) * n_in + k0;
                        int k = 0;
                        for (; k + 16 <= kc; k += 16) _mm512_storeu_ps(dst + k, bf16_widen(src + k, 0xffff));
                        if (k < kc) _mm512_storeu_ps(dst + k, bf16_widen(src + k, (__mmask16)((1u << (kc - k)) - 1)));
                    } else {
                        const int8_t *src = (const int8_t *)w + (ob + r) * n_in + k0;
                        const uint16_t *row_scales = scales + (ob + r) * n_groups;
                        for (int k = 0; k < kc; k += 32) {  /* n_in and group_size are multiples of 32 */
                            __m512 s = _mm512_set1_ps(_cvtsh_ss(row_scales[(k0 + k) / group_size]));
                            _mm512_storeu_ps(dst + k, q8_widen16(src + k, s));
                            _mm512_storeu_ps(dst + k + 16, q8_widen16(src + k + 16, s));
                        }
                    }
                }
            }
            float *acc_b = acc + b * GEMM_ROWS * t_pad;
            for (int c0 = 0; c0 < t_pad; c0 += 32) {
                int width = t_pad - c0 < 32 ? t_pad - c0 : 32;
                const float *xb = xt + (long)c0 * n_in + (long)k0 * width;
                if (!input_major) {
                    if (width == 32) gemm_tile(panel, GEMM_KC, 1, xb, 32, kc, 2, acc_b + c0, t_pad);
                    else gemm_tile(panel, GEMM_KC, 1, xb, 16, kc, 1, acc_b + c0, t_pad);
                } else {
                    if (width == 32) gemm_tile(panel, 1, 16, xb, 32, kc, 2, acc_b + c0, t_pad);
                    else gemm_tile(panel, 1, 16, xb, 16, kc, 1, acc_b + c0, t_pad);
                }
            }
        }
    }
    for (long o = o0; o < o1; o++) {
        const float *src = acc + (o - o0) * t_pad;
        for (int t = 0; t < n_tokens; t++) y[(long)t * n_out + o] = src[t];
    }
    free(acc);
    return 0;
}
