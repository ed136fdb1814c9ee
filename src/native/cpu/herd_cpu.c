/*
 * Herd's CPU kernels in C, for what the Java Vector API cannot express: integer dot products (AVX-512 VNNI) and
 * software prefetch. Called through FFM from io.herd.ffi.CpuKernels; every kernel has a Vector API twin in
 * io.herd.compute.cpu that runs wherever this library is absent or the CPU lacks the instructions.
 *
 * The file is compiled for plain x86-64; only the kernels carry the AVX-512 target attribute, so
 * herd_cpu_features() is safe to call on any x86-64 CPU.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define HERD_Q8_GEMV 1

/* Bit HERD_Q8_GEMV: herd_q8_gemv and herd_q8_quantize_activations may run here. */
int herd_cpu_features(void) {
    __builtin_cpu_init();
    int features = 0;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni"))
        features |= HERD_Q8_GEMV;
    return features;
}

#define KERNEL __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

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
 * Group sizes are multiples of 32, so a chunk never straddles two groups.
 */
KERNEL static void chunk_scales(const uint16_t *row_scales, int group_size, const float *xs, int n_chunks, float *cs) {
    int c = 0;
    if (group_size == 32) {
        for (; c + 16 <= n_chunks; c += 16) {
            __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row_scales + c)));
            _mm512_storeu_ps(cs + c, _mm512_mul_ps(w, _mm512_loadu_ps(xs + c)));
        }
    }
    for (; c < n_chunks; c++) cs[c] = _cvtsh_ss(row_scales[(long)c * 32 / group_size]) * xs[c];
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
    long o = o0;
    for (; o + ROW_TILE <= o1; o += ROW_TILE) {
        for (int r = 0; r < ROW_TILE; r++) chunk_scales(scales + (o + r) * n_groups, group_size, xs, n_chunks, cs + r * n_chunks);
        const int8_t *w = values + o * n_in;
        __m512 acc[ROW_TILE];
#pragma GCC unroll 16
        for (int r = 0; r < ROW_TILE; r++) acc[r] = _mm512_setzero_ps();
        for (int c = 0; c < n_chunks; c++) {
            if ((c & 1) == 0) {
#pragma GCC unroll 16
                for (int r = 0; r < ROW_TILE; r++)
                    _mm_prefetch((const char *)(w + (long)r * n_in + 32 * c + PREFETCH_BYTES), _MM_HINT_T0);
            }
            __m512i xv = _mm512_loadu_si512(xq + 32 * c);
#pragma GCC unroll 16
            for (int r = 0; r < ROW_TILE; r++) CHUNK(acc[r], w + (long)r * n_in, cs[r * n_chunks + c]);
        }
#pragma GCC unroll 16
        for (int r = 0; r < ROW_TILE; r++) y[o + r] = _mm512_reduce_add_ps(acc[r]);
    }
    for (; o < o1; o++) {
        chunk_scales(scales + o * n_groups, group_size, xs, n_chunks, cs);
        const int8_t *w0 = values + o * n_in;
        __m512 a0 = _mm512_setzero_ps();
        for (int c = 0; c < n_chunks; c++) {
            __m512i xv = _mm512_loadu_si512(xq + 32 * c);
            CHUNK(a0, w0, cs[c]);
        }
        y[o] = _mm512_reduce_add_ps(a0);
    }
}
