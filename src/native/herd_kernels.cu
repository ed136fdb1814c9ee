// Herd CUDA kernels. Every entry point is extern "C" and named herd_<op>_<dtype> so the host finds it with
// cuModuleGetFunction. Activations are fp32 on the device; weights are f32, bf16, int8 or int4 (see herd_linear_*);
// the KV cache is f32 or bf16. Layouts follow the checkpoint (row-major, PyTorch order) unless stated otherwise.
#include <cuda_bf16.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;

#define WARP 32
#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(bf16 v) { return __bfloat162float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ bf16 from_f<bf16>(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}
// Sum over the whole block; every thread gets the result. blockDim.x <= 1024.
__device__ float block_sum(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int nWarps = (blockDim.x + WARP - 1) / WARP;
        float s = lane < nWarps ? partial[lane] : 0.f;
        s = warp_sum(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Conversions, fills, transposes
// ---------------------------------------------------------------------------------------------------------------

extern "C" __global__ void herd_convert_f32_bf16(const float* x, bf16* y, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16_rn(x[i]);
}

extern "C" __global__ void herd_convert_bf16_f32(const bf16* x, float* y, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] = __bfloat162float(x[i]);
}

__device__ __forceinline__ uint64_t splitmix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Random bytes, 8 per thread-iteration (used for synthetic int4/int8 weights generated on the device).
extern "C" __global__ void herd_fill_random_u8(uint8_t* p, long long nBytes, unsigned long long seed) {
    long long nWords = nBytes / 8;
    uint64_t* w = reinterpret_cast<uint64_t*>(p);
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < nWords; i += (long long)gridDim.x * blockDim.x)
        w[i] = splitmix64(seed * 0x100000001B3ull + (uint64_t)i);
    long long tail = nWords * 8 + blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (tail < nBytes) p[tail] = (uint8_t)splitmix64(seed + (uint64_t)tail);
}

// Uniform values in [-amp, amp).
extern "C" __global__ void herd_fill_random_bf16(bf16* p, long long n, unsigned long long seed, float amp) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float u = (float)(splitmix64(seed * 0x100000001B3ull + (uint64_t)i) >> 40) * (1.0f / 16777216.0f);
        p[i] = __float2bfloat16_rn((2.f * u - 1.f) * amp);
    }
}

extern "C" __global__ void herd_fill_random_f32(float* p, long long n, unsigned long long seed, float amp) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        float u = (float)(splitmix64(seed * 0x100000001B3ull + (uint64_t)i) >> 40) * (1.0f / 16777216.0f);
        p[i] = (2.f * u - 1.f) * amp;
    }
}

extern "C" __global__ void herd_fill_const_bf16(bf16* p, long long n, float value) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        p[i] = __float2bfloat16_rn(value);
}

// dst[b][c][r] = src[b][r][c]; src is [batch, rows, cols]. Grid (ceil(cols/32), ceil(rows/32), batch), block 32x8.
template <typename T>
__device__ void transpose(const T* src, T* dst, int rows, int cols) {
    __shared__ T tile[32][33];
    long long base = (long long)blockIdx.z * rows * cols;
    int c = blockIdx.x * 32 + threadIdx.x;
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
        int r = blockIdx.y * 32 + i;
        if (r < rows && c < cols) tile[i][threadIdx.x] = src[base + (long long)r * cols + c];
    }
    __syncthreads();
    int r = blockIdx.y * 32 + threadIdx.x;
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
        int cc = blockIdx.x * 32 + i;
        if (r < rows && cc < cols) dst[base + (long long)cc * rows + r] = tile[threadIdx.x][i];
    }
}
extern "C" __global__ void herd_transpose_f32(const float* src, float* dst, int rows, int cols) { transpose(src, dst, rows, cols); }
extern "C" __global__ void herd_transpose_bf16(const bf16* src, bf16* dst, int rows, int cols) { transpose(src, dst, rows, cols); }

// ---------------------------------------------------------------------------------------------------------------
// Quantization (symmetric, per group of `group` consecutive inputs of one output row)
//   int8: q = round(w / s), s = max|w| / 127, stored as int8 [rows, cols]
//   int4: q = round(w / s) clamped to [-8, 7], s = max|w| / 7, stored offset-binary (q + 8) two per byte,
//         [rows, cols/2]: the low nibble holds the even column, the high nibble the odd one.
//   scales: bf16 [rows, cols/group]. One thread per (row, group).
// ---------------------------------------------------------------------------------------------------------------

template <typename T>
__device__ void quantize_int4(const T* w, uint8_t* q, bf16* scales, int rows, int cols, int group) {
    long long gid = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    int groupsPerRow = cols / group;
    if (gid >= (long long)rows * groupsPerRow) return;
    long long r = gid / groupsPerRow, g = gid % groupsPerRow;
    const T* src = w + r * cols + g * group;
    float amax = 0.f;
    for (int i = 0; i < group; i++) amax = fmaxf(amax, fabsf(to_f(src[i])));
    bf16 sb = __float2bfloat16_rn(amax / 7.f);
    float s = __bfloat162float(sb);
    float inv = s > 0.f ? 1.f / s : 0.f;
    scales[gid] = sb;
    uint8_t* dst = q + r * (cols / 2) + g * (group / 2);
    for (int i = 0; i < group; i += 2) {
        int a = max(-8, min(7, __float2int_rn(to_f(src[i]) * inv)));
        int b = max(-8, min(7, __float2int_rn(to_f(src[i + 1]) * inv)));
        dst[i / 2] = (uint8_t)((a + 8) | ((b + 8) << 4));
    }
}
template <typename T>
__device__ void quantize_int8(const T* w, int8_t* q, bf16* scales, int rows, int cols, int group) {
    long long gid = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    int groupsPerRow = cols / group;
    if (gid >= (long long)rows * groupsPerRow) return;
    long long r = gid / groupsPerRow, g = gid % groupsPerRow;
    const T* src = w + r * cols + g * group;
    float amax = 0.f;
    for (int i = 0; i < group; i++) amax = fmaxf(amax, fabsf(to_f(src[i])));
    bf16 sb = __float2bfloat16_rn(amax / 127.f);
    float s = __bfloat162float(sb);
    float inv = s > 0.f ? 1.f / s : 0.f;
    scales[gid] = sb;
    int8_t* dst = q + r * cols + g * group;
    for (int i = 0; i < group; i++) dst[i] = (int8_t)max(-127, min(127, __float2int_rn(to_f(src[i]) * inv)));
}
extern "C" __global__ void herd_quantize_int4_f32(const float* w, uint8_t* q, bf16* s, int rows, int cols, int group) { quantize_int4(w, q, s, rows, cols, group); }
extern "C" __global__ void herd_quantize_int4_bf16(const bf16* w, uint8_t* q, bf16* s, int rows, int cols, int group) { quantize_int4(w, q, s, rows, cols, group); }
extern "C" __global__ void herd_quantize_int8_f32(const float* w, int8_t* q, bf16* s, int rows, int cols, int group) { quantize_int8(w, q, s, rows, cols, group); }
extern "C" __global__ void herd_quantize_int8_bf16(const bf16* w, int8_t* q, bf16* s, int rows, int cols, int group) { quantize_int8(w, q, s, rows, cols, group); }

// ---------------------------------------------------------------------------------------------------------------
// Linear layers: y[m, o] (+)= sum_i x[m, i] * W[o, i], W row-major [nOut, nIn].
// One warp per output row; each lane loads 16 bytes of the row per step and multiplies them with up to MT token
// rows at once, so a weight byte is read once per MT tokens.
// Grouped use (MoE): W, scales advance by wStride bytes / sStride elements per group; group g's token rows are
// [offsets[g], offsets[g+1]) of x and y. With nGroupsTotal > 0, blockIdx.y is a slot: slot i works on the i-th
// group that has tokens, so a decode step with one routed token launches one slot instead of every expert.
// Without offsets, rows [0, M) and blockIdx.y = 0.
// ---------------------------------------------------------------------------------------------------------------

// The group a block works on, or -1 when its slot has no group with tokens.
__device__ __forceinline__ int resolve_group(const int* offsets, int nGroupsTotal) {
    if (offsets == nullptr || nGroupsTotal <= 0) return blockIdx.y;
    int slot = blockIdx.y;
    for (int g = 0; g < nGroupsTotal; g++) {
        if (offsets[g + 1] > offsets[g]) {
            if (slot == 0) return g;
            slot--;
        }
    }
    return -1;
}

// fp32 activations against F32 or BF16 weights.
struct WF32 {
    static constexpr int VEC = 4;
    __device__ static void load(const uint8_t* row, int k, float* w) {
        float4 v = __ldg(reinterpret_cast<const float4*>(row) + k / 4);
        w[0] = v.x; w[1] = v.y; w[2] = v.z; w[3] = v.w;
    }
    __host__ __device__ static long long rowBytes(int nIn) { return (long long)nIn * 4; }
};
struct WBF16 {
    static constexpr int VEC = 8;
    __device__ static void load(const uint8_t* row, int k, float* w) {
        uint4 v = __ldg(reinterpret_cast<const uint4*>(row) + k / 8);
        const uint32_t u[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            w[2 * i] = __uint_as_float(u[i] << 16);
            w[2 * i + 1] = __uint_as_float(u[i] & 0xffff0000u);
        }
    }
    __host__ __device__ static long long rowBytes(int nIn) { return (long long)nIn * 2; }
};

template <typename W, int MT>
__device__ void linear_float(const float* __restrict__ x, float* __restrict__ y, const uint8_t* __restrict__ wBase,
                             int nOut, int nIn, int M, const int* offsets, int nGroupsTotal, long long wStride,
                             int accumulate) {
    int g = resolve_group(offsets, nGroupsTotal);
    if (g < 0) return;
    int mBegin = 0, mEnd = M;
    if (offsets != nullptr) { mBegin = offsets[g]; mEnd = offsets[g + 1]; }
    if (mBegin >= mEnd) return;
    int lane = threadIdx.x % WARP;
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (row >= nOut) return;
    const uint8_t* wRow = wBase + g * wStride + row * W::rowBytes(nIn);
    for (int m0 = mBegin; m0 < mEnd; m0 += MT) {
        int mt = min(MT, mEnd - m0);
        float acc[MT];
#pragma unroll
        for (int t = 0; t < MT; t++) acc[t] = 0.f;
        for (int k = lane * W::VEC; k < nIn; k += WARP * W::VEC) {
            float w[W::VEC];
            W::load(wRow, k, w);
#pragma unroll
            for (int t = 0; t < MT; t++) {
                if (t < mt) {
                    const float4* xv = reinterpret_cast<const float4*>(x + (long long)(m0 + t) * nIn + k);
                    float a = 0.f;
#pragma unroll
                    for (int i = 0; i < W::VEC / 4; i++) {
                        float4 xx = __ldg(xv + i);
                        a = fmaf(w[4 * i], xx.x, a);
                        a = fmaf(w[4 * i + 1], xx.y, a);
                        a = fmaf(w[4 * i + 2], xx.z, a);
                        a = fmaf(w[4 * i + 3], xx.w, a);
                    }
                    acc[t] += a;
                }
            }
        }
#pragma unroll
        for (int t = 0; t < MT; t++) {
            if (t < mt) {
                float s = warp_sum(acc[t]);
                if (lane == 0) {
                    float* dst = y + (long long)(m0 + t) * nOut + row;
                    *dst = accumulate ? *dst + s : s;
                }
            }
        }
    }
}

#define HERD_LINEAR_FLOAT(NAME, W, MT)                                                                             \
    extern "C" __global__ void NAME(const float* x, float* y, const uint8_t* w, int nOut, int nIn, int M,         \
                                    const int* offsets, int nGroupsTotal, long long wStride, int accumulate) {    \
        linear_float<W, MT>(x, y, w, nOut, nIn, M, offsets, nGroupsTotal, wStride, accumulate);                    \
    }
HERD_LINEAR_FLOAT(herd_linear_f32, WF32, 4)
HERD_LINEAR_FLOAT(herd_linear_bf16, WBF16, 4)
HERD_LINEAR_FLOAT(herd_linear_wide_f32, WF32, 16)
HERD_LINEAR_FLOAT(herd_linear_wide_bf16, WBF16, 16)

// Quantized weights take int8 activations: herd_quantize_act_q8 quantizes each row of x per group of 32 inputs
// (scale xs = max|x| / 127, q = round(x / xs), xsum = sum of q) so that the inner product runs on __dp4a, four
// int8 products per instruction, with no per-weight conversion to float. For int4 weights the activations are
// stored in nibble order: in every 8 inputs, the 4 even ones first, then the 4 odd ones, matching the low and
// high nibbles of 4 packed bytes. The int4 offset of 8 is removed per group as 8 * xsum.
extern "C" __global__ void herd_quantize_act_q8(const float* x, int8_t* xq, float* xs, int* xsum, int nIn,
                                                int int4Order, long long nGroups) {
    long long gid = blockIdx.x * (long long)(blockDim.x / WARP) + threadIdx.x / WARP;
    if (gid >= nGroups) return;
    int lane = threadIdx.x % WARP;
    int groupsPerRow = nIn / 32;
    long long row = gid / groupsPerRow, g = gid % groupsPerRow;
    float v = x[row * nIn + g * 32 + lane];
    float amax = warp_max(fabsf(v));
    float s = amax / 127.f;
    int q = s > 0.f ? max(-127, min(127, __float2int_rn(v / s))) : 0;
    int sum = __reduce_add_sync(FULL_MASK, q);
    int dest = int4Order ? (lane & ~7) + ((lane & 1) ? 4 : 0) + ((lane & 7) >> 1) : lane;
    xq[row * nIn + g * 32 + dest] = (int8_t)q;
    if (lane == 0) { xs[gid] = s; xsum[gid] = sum; }
}

// Fused producers of the int8 activations (same values, bit for bit, as the unfused kernels followed by
// herd_quantize_act_q8; one launch fewer each). The group quantization of one warp's 32 inputs:
__device__ __forceinline__ void quantize_group_q8(float v, int8_t* xq, float* xs, int* xsum, long long gid,
                                                  long long base, int lane, int int4Order) {
    float amax = warp_max(fabsf(v));
    float s = amax / 127.f;
    int q = s > 0.f ? max(-127, min(127, __float2int_rn(v / s))) : 0;
    int sum = __reduce_add_sync(FULL_MASK, q);
    int dest = int4Order ? (lane & ~7) + ((lane & 1) ? 4 : 0) + ((lane & 7) >> 1) : lane;
    xq[base + dest] = (int8_t)q;
    if (lane == 0) { xs[gid] = s; xsum[gid] = sum; }
}

// silu(h[t, j]) * h[t, F + j] (as herd_silu_mul_f32) quantized per 32 inputs, without writing the f32 product.
// Warp per group, nGroups = T * F / 32.
extern "C" __global__ void herd_quantize_act_q8_silu(const float* h, int F, int8_t* xq, float* xs, int* xsum,
                                                     int int4Order, long long nGroups) {
    long long gid = blockIdx.x * (long long)(blockDim.x / WARP) + threadIdx.x / WARP;
    if (gid >= nGroups) return;
    int lane = threadIdx.x % WARP;
    int groupsPerRow = F / 32;
    long long t = gid / groupsPerRow, g = gid % groupsPerRow;
    long long j = g * 32 + lane;
    float gt = h[t * 2 * F + j], up = h[t * 2 * F + F + j];
    float v = gt / (1.f + expf(-gt)) * up;
    quantize_group_q8(v, xq, xs, xsum, gid, t * F + g * 32, lane, int4Order);
}

// herd_rmsnorm_f32 (same block size, so the same sum order) that also quantizes its output row per 32 inputs.
// Grid (rows), block min(1024, dim rounded up to 32); dim % 32 == 0.
extern "C" __global__ void herd_rmsnorm_quantize_f32(const float* x, const float* g, float* y, int dim, float eps,
                                                     const int* rows, int8_t* xq, float* xs, int* xsum,
                                                     int int4Order) {
    int r = blockIdx.x;
    const float* xr = x + (long long)(rows ? rows[r] : r) * dim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss);
    float inv = rsqrtf(ss / dim + eps);
    float* yr = y + (long long)r * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = g ? xr[i] * inv * g[i] : xr[i] * inv;
    __syncthreads();  // the row is written; every warp quantizes whole groups of it
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP, nWarps = blockDim.x / WARP;
    int groupsPerRow = dim / 32;
    for (int gi = warp; gi < groupsPerRow; gi += nWarps) {
        float v = yr[gi * 32 + lane];
        quantize_group_q8(v, xq, xs, xsum, (long long)r * groupsPerRow + gi, (long long)r * dim + gi * 32, lane,
                          int4Order);
    }
}

struct QINT8 {
    static constexpr int VEC = 16;
    __host__ __device__ static long long rowBytes(int nIn) { return (long long)nIn; }
    // sum over 16 weights of w * x, as an int (x in natural order)
    __device__ static int dot(uint4 w, const int8_t* xq) {
        int4 a = __ldg(reinterpret_cast<const int4*>(xq));
        int d = __dp4a((int)w.x, a.x, 0);
        d = __dp4a((int)w.y, a.y, d);
        d = __dp4a((int)w.z, a.z, d);
        return __dp4a((int)w.w, a.w, d);
    }
};
struct QINT4 {
    static constexpr int VEC = 32;
    __host__ __device__ static long long rowBytes(int nIn) { return (long long)nIn / 2; }
    // sum over 32 weights of nibble * x (x in nibble order); the caller subtracts 8 * xsum
    __device__ static int dot(uint4 w, const int8_t* xq) {
        const int4* xv = reinterpret_cast<const int4*>(xq);
        int4 a = __ldg(xv), b = __ldg(xv + 1);
        const int m = 0x0F0F0F0F;
        int d = __dp4a((int)(w.x & m), a.x, 0);
        d = __dp4a((int)((w.x >> 4) & m), a.y, d);
        d = __dp4a((int)(w.y & m), a.z, d);
        d = __dp4a((int)((w.y >> 4) & m), a.w, d);
        d = __dp4a((int)(w.z & m), b.x, d);
        d = __dp4a((int)((w.z >> 4) & m), b.y, d);
        d = __dp4a((int)(w.w & m), b.z, d);
        return __dp4a((int)((w.w >> 4) & m), b.w, d);
    }
};

template <typename Q, bool INT4, int MT>
__device__ void linear_quant(const int8_t* __restrict__ xq, const float* __restrict__ xs, const int* __restrict__ xsum,
                             float* __restrict__ y, const uint8_t* __restrict__ wBase, const bf16* __restrict__ sBase,
                             int nOut, int nIn, int group, int M, const int* offsets, int nGroupsTotal,
                             long long wStride, long long sStride, int accumulate) {
    int g = resolve_group(offsets, nGroupsTotal);
    if (g < 0) return;
    int mBegin = 0, mEnd = M;
    if (offsets != nullptr) { mBegin = offsets[g]; mEnd = offsets[g + 1]; }
    if (mBegin >= mEnd) return;
    int lane = threadIdx.x % WARP;
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (row >= nOut) return;
    const uint8_t* wRow = wBase + g * wStride + row * Q::rowBytes(nIn);
    const bf16* sRow = sBase + g * sStride + (long long)row * (nIn / group);
    int xGroups = nIn / 32;
    for (int m0 = mBegin; m0 < mEnd; m0 += MT) {
        int mt = min(MT, mEnd - m0);
        float acc[MT];
#pragma unroll
        for (int t = 0; t < MT; t++) acc[t] = 0.f;
        // unrolled so that several 16-byte weight loads of a lane are in flight at once (results are unchanged:
        // each acc[t] still adds its terms in the same order); the 16-row kernel keeps one for register room
#pragma unroll (MT <= 4 ? 4 : 1)
        for (int k = lane * Q::VEC; k < nIn; k += WARP * Q::VEC) {
            uint4 w = __ldg(reinterpret_cast<const uint4*>(wRow) + k / Q::VEC);
            float sw = __bfloat162float(sRow[k / group]);
#pragma unroll
            for (int t = 0; t < MT; t++) {
                if (t < mt) {
                    long long r = m0 + t;
                    int d = Q::dot(w, xq + r * nIn + k);
                    int xg = (int)(r * xGroups + k / 32);
                    if (INT4) d -= 8 * __ldg(xsum + xg);
                    acc[t] = fmaf(sw * __ldg(xs + xg), (float)d, acc[t]);
                }
            }
        }
#pragma unroll
        for (int t = 0; t < MT; t++) {
            if (t < mt) {
                float s = warp_sum(acc[t]);
                if (lane == 0) {
                    float* dst = y + (long long)(m0 + t) * nOut + row;
                    *dst = accumulate ? *dst + s : s;
                }
            }
        }
    }
}

#define HERD_LINEAR_QUANT(NAME, Q, INT4, MT)                                                                       \
    extern "C" __global__ void NAME(const int8_t* xq, const float* xs, const int* xsum, float* y, const uint8_t* w, \
                                    const bf16* s, int nOut, int nIn, int group, int M, const int* offsets,       \
                                    int nGroupsTotal, long long wStride, long long sStride, int accumulate) {     \
        linear_quant<Q, INT4, MT>(xq, xs, xsum, y, w, s, nOut, nIn, group, M, offsets, nGroupsTotal, wStride,     \
                                  sStride, accumulate);                                                           \
    }
HERD_LINEAR_QUANT(herd_linear_int8, QINT8, false, 4)
HERD_LINEAR_QUANT(herd_linear_int4, QINT4, true, 4)
HERD_LINEAR_QUANT(herd_linear_wide_int8, QINT8, false, 16)
HERD_LINEAR_QUANT(herd_linear_wide_int4, QINT4, true, 16)

// int4 linear, register-tiled: each warp computes R = 4 consecutive output rows for MT tokens at a time, so one
// load of a token's 32 int8 activations (and its scale and sum) serves 4 weight rows instead of 1; the activation
// traffic per weight byte, which bounds the one-warp-per-row kernel above, drops fourfold. Same arithmetic per
// output as herd_linear_int4 (int dot products per 32 inputs, then fp32 accumulation in the same k order).
// Grid (ceil(nOut / (8 * 4)), groups), block 256.
__device__ __forceinline__ int dot_int4_regs(uint4 w, int4 a, int4 b) {
    const int m = 0x0F0F0F0F;
    int d = __dp4a((int)(w.x & m), a.x, 0);
    d = __dp4a((int)((w.x >> 4) & m), a.y, d);
    d = __dp4a((int)(w.y & m), a.z, d);
    d = __dp4a((int)((w.y >> 4) & m), a.w, d);
    d = __dp4a((int)(w.z & m), b.x, d);
    d = __dp4a((int)((w.z >> 4) & m), b.y, d);
    d = __dp4a((int)(w.w & m), b.z, d);
    return __dp4a((int)((w.w >> 4) & m), b.w, d);
}

// Loads the 16 packed bytes at input k of R consecutive weight rows and their group scales.
template <int R>
__device__ __forceinline__ void load_int4_rows(const uint8_t* __restrict__ w0, const bf16* __restrict__ s0,
                                               int row0, int nOut, long long rowBytes, int sPerRow, int k, int group,
                                               uint4 (&w)[R], float (&sw)[R]) {
#pragma unroll
    for (int r = 0; r < R; r++) {
        int row = min(row0 + r, nOut - 1);  // rows past nOut compute a copy of the last row, never stored
        w[r] = __ldg(reinterpret_cast<const uint4*>(w0 + row * rowBytes) + k / 32);
        sw[r] = __bfloat162float(s0[(long long)row * sPerRow + k / group]);
    }
}

// PIPE: the weights of the next k step are loaded before the current one is multiplied (software double
// buffering), so each warp keeps two steps of weight loads in flight instead of waiting out each one; mid-size
// matrices (8192 x 5120 at batch 1 has only ~16 warps per SM) are bound by that latency, not by bandwidth. The
// arithmetic and its order are unchanged, so the results are bit-identical to PIPE = false.
template <int MT, bool PIPE>
__device__ void linear_int4_tiled(const int8_t* __restrict__ xq, const float* __restrict__ xs,
                                  const int* __restrict__ xsum, float* __restrict__ y,
                                  const uint8_t* __restrict__ wBase, const bf16* __restrict__ sBase, int nOut, int nIn,
                                  int group, int M, const int* offsets, int nGroupsTotal, long long wStride,
                                  long long sStride, int accumulate) {
    constexpr int R = 4;
    int g = resolve_group(offsets, nGroupsTotal);
    if (g < 0) return;
    int mBegin = 0, mEnd = M;
    if (offsets != nullptr) { mBegin = offsets[g]; mEnd = offsets[g + 1]; }
    if (mBegin >= mEnd) return;
    int lane = threadIdx.x % WARP;
    int row0 = (blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP) * R;
    if (row0 >= nOut) return;
    long long rowBytes = nIn / 2;
    int sPerRow = nIn / group;
    const uint8_t* w0 = wBase + g * wStride;
    const bf16* s0 = sBase + g * sStride;
    int xGroups = nIn / 32;
    for (int m0 = mBegin; m0 < mEnd; m0 += MT) {
        int mt = min(MT, mEnd - m0);
        float acc[MT][R];
#pragma unroll
        for (int t = 0; t < MT; t++)
#pragma unroll
            for (int r = 0; r < R; r++) acc[t][r] = 0.f;
        uint4 w[R];
        float sw[R];
        if (PIPE && lane * 32 < nIn) load_int4_rows<R>(w0, s0, row0, nOut, rowBytes, sPerRow, lane * 32, group, w, sw);
        for (int k = lane * 32; k < nIn; k += WARP * 32) {
            uint4 wn[R];
            float swn[R];
            bool more = PIPE && k + WARP * 32 < nIn;
            if (!PIPE) load_int4_rows<R>(w0, s0, row0, nOut, rowBytes, sPerRow, k, group, w, sw);
            else if (more) load_int4_rows<R>(w0, s0, row0, nOut, rowBytes, sPerRow, k + WARP * 32, group, wn, swn);
#pragma unroll
            for (int t = 0; t < MT; t++) {
                if (t < mt) {
                    long long rr = m0 + t;
                    const int4* xv = reinterpret_cast<const int4*>(xq + rr * nIn + k);
                    int4 a = __ldg(xv), b = __ldg(xv + 1);
                    int xg = (int)(rr * xGroups + k / 32);
                    int corr = 8 * __ldg(xsum + xg);
                    float xsc = __ldg(xs + xg);
#pragma unroll
                    for (int r = 0; r < R; r++) {
                        int d = dot_int4_regs(w[r], a, b) - corr;
                        acc[t][r] = fmaf(sw[r] * xsc, (float)d, acc[t][r]);
                    }
                }
            }
            if (more) {
#pragma unroll
                for (int r = 0; r < R; r++) {
                    w[r] = wn[r];
                    sw[r] = swn[r];
                }
            }
        }
#pragma unroll
        for (int t = 0; t < MT; t++) {
            if (t < mt) {
#pragma unroll
                for (int r = 0; r < R; r++) {
                    float sum = warp_sum(acc[t][r]);
                    if (lane == 0 && row0 + r < nOut) {
                        float* dst = y + (long long)(m0 + t) * nOut + row0 + r;
                        *dst = accumulate ? *dst + sum : sum;
                    }
                }
            }
        }
    }
}
#define HERD_LINEAR_INT4_TILED(NAME, MT, PIPE) HERD_LINEAR_INT4_TILED_LB(NAME, MT, PIPE, 1)
#define HERD_LINEAR_INT4_TILED_LB(NAME, MT, PIPE, MIN_BLOCKS)                                                      \
    extern "C" __global__ void __launch_bounds__(256, MIN_BLOCKS) NAME(const int8_t* xq, const float* xs, const int* xsum, float* y, const uint8_t* w, \
                                    const bf16* s, int nOut, int nIn, int group, int M, const int* offsets,       \
                                    int nGroupsTotal, long long wStride, long long sStride, int accumulate) {     \
        linear_int4_tiled<MT, PIPE>(xq, xs, xsum, y, w, s, nOut, nIn, group, M, offsets, nGroupsTotal, wStride,   \
                                    sStride, accumulate);                                                          \
    }
HERD_LINEAR_INT4_TILED(herd_linear_tiled_int4, 4, false)
HERD_LINEAR_INT4_TILED(herd_linear_tiled_wide_int4, 16, false)
HERD_LINEAR_INT4_TILED(herd_linear_pipelined_wide_int4, 16, true)
// One token row in all (batch-1 decode): MT = 1 needs far fewer registers than MT = 4 (122, two 256-thread blocks
// per SM), so bounded to 85 registers three blocks (24 warps) fit on each SM to hide the weight-load latency.
HERD_LINEAR_INT4_TILED_LB(herd_linear_pipelined_single_int4, 1, true, 3)

// Token rows one at a time with the inputs split over the block's warps (split-K): a block takes 4 output rows, each
// of its blockDim / 32 warps (at most 8) a share of the 1024-input steps, and the warps' sums are added in warp
// order. At
// batch 1 the row-tiled kernels give a 5120-row matrix only 160 blocks, one wave whose warps each wait out several
// dependent weight loads in turn; here every warp issues its loads at once. Same integer dot products and scales per
// step; the fp32 sums are grouped differently (rounding only). Grid (ceil(nOut / 4), groups).
extern "C" __global__ void __launch_bounds__(256) herd_linear_splitk_single_int4(
        const int8_t* __restrict__ xq, const float* __restrict__ xs, const int* __restrict__ xsum, float* y,
        const uint8_t* __restrict__ wBase, const bf16* __restrict__ sBase, int nOut, int nIn, int group, int M,
        const int* offsets, int nGroupsTotal, long long wStride, long long sStride, int accumulate) {
    constexpr int R = 4;
    __shared__ float part[8][R];
    int g = resolve_group(offsets, nGroupsTotal);  // the same for the whole block, so every return is uniform
    if (g < 0) return;
    int mBegin = 0, mEnd = M;
    if (offsets != nullptr) { mBegin = offsets[g]; mEnd = offsets[g + 1]; }
    int row0 = blockIdx.x * R;
    if (mBegin >= mEnd || row0 >= nOut) return;
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP, nWarps = blockDim.x / WARP;
    long long rowBytes = nIn / 2;
    int sPerRow = nIn / group;
    const uint8_t* w0 = wBase + g * wStride;
    const bf16* s0 = sBase + g * sStride;
    int xGroups = nIn / 32;
    for (int m = mBegin; m < mEnd; m++) {
        float acc[R];
#pragma unroll
        for (int r = 0; r < R; r++) acc[r] = 0.f;
        for (int k = (warp * WARP + lane) * 32; k < nIn; k += nWarps * WARP * 32) {
            uint4 w[R];
            float sw[R];
            load_int4_rows<R>(w0, s0, row0, nOut, rowBytes, sPerRow, k, group, w, sw);
            const int4* xv = reinterpret_cast<const int4*>(xq + (long long)m * nIn + k);
            int4 a = __ldg(xv), b = __ldg(xv + 1);
            int xg = (int)((long long)m * xGroups + k / 32);
            int corr = 8 * __ldg(xsum + xg);
            float xsc = __ldg(xs + xg);
#pragma unroll
            for (int r = 0; r < R; r++) {
                int d = dot_int4_regs(w[r], a, b) - corr;
                acc[r] = fmaf(sw[r] * xsc, (float)d, acc[r]);
            }
        }
#pragma unroll
        for (int r = 0; r < R; r++) {
            float sum = warp_sum(acc[r]);
            if (lane == 0) part[warp][r] = sum;
        }
        __syncthreads();
        if (threadIdx.x < R && row0 + threadIdx.x < nOut) {
            float sum = 0.f;
            for (int q = 0; q < nWarps; q++) sum += part[q][threadIdx.x];
            float* dst = y + (long long)m * nOut + row0 + threadIdx.x;
            *dst = accumulate ? *dst + sum : sum;
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Norms, embedding, activations
// ---------------------------------------------------------------------------------------------------------------

// y[i] = x[rows ? rows[i] : i] * rsqrt(mean(x^2) + eps) * g. One block per output row. g may be null (no gain).
extern "C" __global__ void herd_rmsnorm_f32(const float* x, const float* g, float* y, int dim, float eps, const int* rows) {
    int r = blockIdx.x;
    const float* xr = x + (long long)(rows ? rows[r] : r) * dim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss);
    float inv = rsqrtf(ss / dim + eps);
    float* yr = y + (long long)r * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = g ? xr[i] * inv * g[i] : xr[i] * inv;
}

// out[t] = table[ids[t]] as fp32. Grid (nTok), block 256.
extern "C" __global__ void herd_embed_f32(const float* table, const int* ids, float* out, int dim) {
    const float* src = table + (long long)ids[blockIdx.x] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[(long long)blockIdx.x * dim + i] = src[i];
}
extern "C" __global__ void herd_embed_bf16(const bf16* table, const int* ids, float* out, int dim) {
    const bf16* src = table + (long long)ids[blockIdx.x] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[(long long)blockIdx.x * dim + i] = __bfloat162float(src[i]);
}

// a[t, j] = silu(h[t, j]) * h[t, F + j]; h is [T, 2F] (gate columns, then up columns).
extern "C" __global__ void herd_silu_mul_f32(const float* h, float* a, int F, long long total) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        long long t = i / F, j = i % F;
        float gt = h[t * 2 * F + j], up = h[t * 2 * F + F + j];
        a[i] = gt / (1.f + expf(-gt)) * up;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Attention
// KV cache, per layer: K and V each [nBlocks, blockSize, nKv, headDim]. Token t of the step is at absolute position
// tokPos[t] of sequence tokSeq[t]; blockTables is [nSeq, maxBlocks] (physical block per logical block).
// ---------------------------------------------------------------------------------------------------------------

__device__ __forceinline__ long long kv_offset(const int* table, int pos, int blockSize, int nKv, int kvh, int headDim) {
    int blk = table[pos / blockSize];
    return (((long long)blk * blockSize + pos % blockSize) * nKv + kvh) * headDim;
}

// On the fused projection qkv [T, (nHeads + 2 nKv) * headDim]: interleaved RoPE with the host's omega table
// (null on NoPE layers), then unscaled RMS qk-norm (if qkNorm), then temperature tuning of q (if tempTuning, NoPE
// layers only); q is written back in place, k and v go into the cache. Grid (T, nHeads + nKv), block: headDim/2
// rounded up to whole warps (threads past headDim/2 only join the reduction).
template <typename KV>
__device__ void attn_prep(float* qkv, KV* kc, KV* vc, const int* tokPos, const int* tokSeq, const int* blockTables,
                          int maxBlocks, int blockSize, int nHeads, int nKv, int headDim, const float* omega,
                          int qkNorm, float eps, int tempTuning, float attnScale, float floorScale) {
    int t = blockIdx.x, hh = blockIdx.y, i = threadIdx.x;
    int ld = (nHeads + 2 * nKv) * headDim;
    int p = tokPos[t];
    float* row = qkv + (long long)t * ld + (long long)hh * headDim;
    bool active = 2 * i < headDim;
    float y0 = active ? row[2 * i] : 0.f, y1 = active ? row[2 * i + 1] : 0.f;
    if (omega != nullptr && active) {
        float ang = (float)p * omega[i];
        float s, c;
        sincosf(ang, &s, &c);
        float a = y0 * c - y1 * s, b = y0 * s + y1 * c;
        y0 = a; y1 = b;
    }
    if (qkNorm) {
        float ss = block_sum(y0 * y0 + y1 * y1);
        float inv = rsqrtf(ss / headDim + eps);
        y0 *= inv; y1 *= inv;
    }
    if (!active) return;
    if (hh < nHeads) {
        if (tempTuning) {
            float sc = 1.f + attnScale * logf(1.f + floorf((float)(p + 1) / floorScale));
            y0 *= sc; y1 *= sc;
        }
        row[2 * i] = y0; row[2 * i + 1] = y1;
    } else {
        int kvh = hh - nHeads;
        const int* table = blockTables + (long long)tokSeq[t] * maxBlocks;
        long long off = kv_offset(table, p, blockSize, nKv, kvh, headDim);
        kc[off + 2 * i] = from_f<KV>(y0);
        kc[off + 2 * i + 1] = from_f<KV>(y1);
        const float* vrow = qkv + (long long)t * ld + (long long)(nHeads + nKv + kvh) * headDim;
        vc[off + 2 * i] = from_f<KV>(vrow[2 * i]);
        vc[off + 2 * i + 1] = from_f<KV>(vrow[2 * i + 1]);
    }
}
#define HERD_ATTN_PREP(NAME, KV)                                                                                   \
    extern "C" __global__ void NAME(float* qkv, KV* kc, KV* vc, const int* tokPos, const int* tokSeq,              \
                                    const int* blockTables, int maxBlocks, int blockSize, int nHeads, int nKv,     \
                                    int headDim, const float* omega, int qkNorm, float eps, int tempTuning,        \
                                    float attnScale, float floorScale) {                                           \
        attn_prep<KV>(qkv, kc, vc, tokPos, tokSeq, blockTables, maxBlocks, blockSize, nHeads, nKv, headDim, omega, \
                      qkNorm, eps, tempTuning, attnScale, floorScale);                                             \
    }
HERD_ATTN_PREP(herd_attn_prep_f32, float)
HERD_ATTN_PREP(herd_attn_prep_bf16, bf16)

// Decode attention over the paged cache: one warp per (token, query head), keys in tiles of 32 (one per lane) with
// an online softmax; each lane owns output dims lane, lane+32, ... (headDim <= 256). Keys from lo to p inclusive,
// lo = start of p's attention chunk (chunkSize > 0) or 0 (global). Grid ceil(T*nHeads/4), block 128.
template <typename KV>
__device__ void attention_decode(const float* qkv, float* out, const KV* kc, const KV* vc, const int* tokPos,
                                 const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize, int nHeads,
                                 int nKv, int headDim, int chunkSize, float scale, int nTok) {
    __shared__ float qs[4][256];
    int warpInBlock = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    int w = blockIdx.x * 4 + warpInBlock;
    if (w >= nTok * nHeads) return;
    int t = w / nHeads, h = w % nHeads;
    int ld = (nHeads + 2 * nKv) * headDim;
    const float* q = qkv + (long long)t * ld + (long long)h * headDim;
    for (int d = lane; d < headDim; d += WARP) qs[warpInBlock][d] = q[d] * scale;
    __syncwarp();
    int p = tokPos[t];
    int lo = chunkSize > 0 ? (p / chunkSize) * chunkSize : 0;
    int kvh = h / (nHeads / nKv);
    const int* table = blockTables + (long long)tokSeq[t] * maxBlocks;
    float m = -INFINITY, l = 0.f, acc[8];
#pragma unroll
    for (int i = 0; i < 8; i++) acc[i] = 0.f;
    for (int j0 = lo; j0 <= p; j0 += WARP) {
        int j = j0 + lane;
        float s = -INFINITY;
        if (j <= p) {
            const KV* kr = kc + kv_offset(table, j, blockSize, nKv, kvh, headDim);
            float a = 0.f;
            for (int d = 0; d < headDim; d++) a = fmaf(qs[warpInBlock][d], to_f(kr[d]), a);
            s = a;
        }
        float mNew = fmaxf(m, warp_max(s));
        float corr = __expf(m - mNew);
        float pj = j <= p ? expf(s - mNew) : 0.f;
        l = l * corr + warp_sum(pj);
#pragma unroll
        for (int i = 0; i < 8; i++) acc[i] *= corr;
        m = mNew;
        int nValid = min(WARP, p - j0 + 1);
        for (int jj = 0; jj < nValid; jj++) {
            float pw = __shfl_sync(FULL_MASK, pj, jj);
            const KV* vr = vc + kv_offset(table, j0 + jj, blockSize, nKv, kvh, headDim);
#pragma unroll
            for (int i = 0; i < 8; i++) {
                int d = lane + WARP * i;
                if (d < headDim) acc[i] = fmaf(pw, to_f(vr[d]), acc[i]);
            }
        }
    }
    float* o = out + (long long)t * nHeads * headDim + (long long)h * headDim;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int d = lane + WARP * i;
        if (d < headDim) o[d] = acc[i] / l;
    }
}
#define HERD_ATTN_DECODE(NAME, KV)                                                                                 \
    extern "C" __global__ void NAME(const float* qkv, float* out, const KV* kc, const KV* vc, const int* tokPos,  \
                                    const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,      \
                                    int nHeads, int nKv, int headDim, int chunkSize, float scale, int nTok) {     \
        attention_decode<KV>(qkv, out, kc, vc, tokPos, tokSeq, blockTables, maxBlocks, blockSize, nHeads, nKv,    \
                             headDim, chunkSize, scale, nTok);                                                     \
    }
HERD_ATTN_DECODE(herd_attention_decode_f32, float)
HERD_ATTN_DECODE(herd_attention_decode_bf16, bf16)

// Decode attention for headDim 128 (Llama 4): one block of 4 warps per (token, query head). The warps split the
// key range (flash-decoding within a block): warp w takes key tiles w, w+4, ...; in a tile each lane scores one key,
// loading its 128-element row with 16-byte loads that are all in flight at once, and for the weighted sum each lane
// owns 4 consecutive output dims, so a value row is one coalesced 256- or 512-byte read. The four partial softmax
// states are merged through shared memory. Grid (T * nHeads), block 128.
template <typename KV>
__device__ __forceinline__ float dot32(const float* q, const KV* k);
template <>
__device__ __forceinline__ float dot32<bf16>(const float* q, const bf16* k) {
    const uint4* kv = reinterpret_cast<const uint4*>(k);
    uint4 r[4];
#pragma unroll
    for (int i = 0; i < 4; i++) r[i] = __ldg(kv + i);
    float a = 0.f;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const uint32_t u[4] = {r[i].x, r[i].y, r[i].z, r[i].w};
#pragma unroll
        for (int j = 0; j < 4; j++) {
            a = fmaf(q[8 * i + 2 * j], __uint_as_float(u[j] << 16), a);
            a = fmaf(q[8 * i + 2 * j + 1], __uint_as_float(u[j] & 0xffff0000u), a);
        }
    }
    return a;
}
template <>
__device__ __forceinline__ float dot32<float>(const float* q, const float* k) {
    const float4* kv = reinterpret_cast<const float4*>(k);
    float4 r[8];
#pragma unroll
    for (int i = 0; i < 8; i++) r[i] = __ldg(kv + i);
    float a = 0.f;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        a = fmaf(q[4 * i], r[i].x, a);
        a = fmaf(q[4 * i + 1], r[i].y, a);
        a = fmaf(q[4 * i + 2], r[i].z, a);
        a = fmaf(q[4 * i + 3], r[i].w, a);
    }
    return a;
}
__device__ __forceinline__ void load4(const bf16* v, float* out) {
    uint2 u = __ldg(reinterpret_cast<const uint2*>(v));
    out[0] = __uint_as_float(u.x << 16);
    out[1] = __uint_as_float(u.x & 0xffff0000u);
    out[2] = __uint_as_float(u.y << 16);
    out[3] = __uint_as_float(u.y & 0xffff0000u);
}
__device__ __forceinline__ void load4(const float* v, float* out) {
    float4 f = __ldg(reinterpret_cast<const float4*>(v));
    out[0] = f.x; out[1] = f.y; out[2] = f.z; out[3] = f.w;
}

// The work of one block of 4 warps for query head h of token t over key tiles [tileBegin, tileEnd) (tiles of 32
// keys counted from lo): returns, for output dim threadIdx.x, the block's softmax state merged over its warps:
// *mOut the running max, *lOut the sum of exp(s - max), the return value the exp-weighted sum of values. A block
// with no keys returns max -inf, sum 0 and 0. qs holds the scaled query.
template <typename KV>
__device__ float hd128_partial(const float* qs, const KV* kc, const KV* vc, const int* table, int blockSize, int nKv,
                               int kvh, int lo, int p, int tileBegin, int tileEnd, float* mOut, float* lOut) {
    constexpr int HD = 128;
    __shared__ float wm[4], wl[4];
    __shared__ float wacc[4][HD];
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    float m = -INFINITY, l = 0.f, acc[4] = {0.f, 0.f, 0.f, 0.f};
    for (int tile = tileBegin + warp; tile < tileEnd; tile += 4) {
        int j0 = lo + tile * WARP, j = j0 + lane;
        float s = -INFINITY;
        if (j <= p) {
            const KV* kr = kc + kv_offset(table, j, blockSize, nKv, kvh, HD);
            s = 0.f;
#pragma unroll
            for (int c = 0; c < HD; c += 32) s += dot32<KV>(qs + c, kr + c);
        }
        float mNew = fmaxf(m, warp_max(s));
        float corr = expf(m - mNew);
        float pj = j <= p ? expf(s - mNew) : 0.f;
        l = l * corr + warp_sum(pj);
#pragma unroll
        for (int i = 0; i < 4; i++) acc[i] *= corr;
        m = mNew;
        int nValid = min(WARP, p - j0 + 1);
#pragma unroll 8
        for (int jj = 0; jj < nValid; jj++) {
            float pw = __shfl_sync(FULL_MASK, pj, jj);
            float v[4];
            load4(vc + kv_offset(table, j0 + jj, blockSize, nKv, kvh, HD) + 4 * lane, v);
#pragma unroll
            for (int i = 0; i < 4; i++) acc[i] = fmaf(pw, v[i], acc[i]);
        }
    }
    if (lane == 0) { wm[warp] = m; wl[warp] = l; }
#pragma unroll
    for (int i = 0; i < 4; i++) wacc[warp][4 * lane + i] = acc[i];
    __syncthreads();
    float mAll = fmaxf(fmaxf(wm[0], wm[1]), fmaxf(wm[2], wm[3]));
    float num = 0.f, den = 0.f;
#pragma unroll
    for (int w = 0; w < 4; w++) {
        float f = wm[w] == -INFINITY ? 0.f : expf(wm[w] - mAll);
        num += f * wacc[w][threadIdx.x];
        den += f * wl[w];
    }
    *mOut = mAll;
    *lOut = den;
    return num;
}

template <typename KV>
__device__ void attention_decode_hd128(const float* qkv, float* out, const KV* kc, const KV* vc, const int* tokPos,
                                       const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,
                                       int nHeads, int nKv, int chunkSize, float scale) {
    constexpr int HD = 128;
    __shared__ float qs[HD];
    int t = blockIdx.x / nHeads, h = blockIdx.x % nHeads;
    int ld = (nHeads + 2 * nKv) * HD;
    qs[threadIdx.x] = qkv[(long long)t * ld + (long long)h * HD + threadIdx.x] * scale;
    __syncthreads();
    int p = tokPos[t];
    int lo = chunkSize > 0 ? (p / chunkSize) * chunkSize : 0;
    int kvh = h / (nHeads / nKv);
    const int* table = blockTables + (long long)tokSeq[t] * maxBlocks;
    int nTiles = (p - lo) / WARP + 1;
    float m, l;
    float num = hd128_partial<KV>(qs, kc, vc, table, blockSize, nKv, kvh, lo, p, 0, nTiles, &m, &l);
    out[(long long)t * nHeads * HD + (long long)h * HD + threadIdx.x] = num / l;
}
#define HERD_ATTN_DECODE_HD128(NAME, KV)                                                                           \
    extern "C" __global__ void NAME(const float* qkv, float* out, const KV* kc, const KV* vc, const int* tokPos,  \
                                    const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,      \
                                    int nHeads, int nKv, int chunkSize, float scale) {                            \
        attention_decode_hd128<KV>(qkv, out, kc, vc, tokPos, tokSeq, blockTables, maxBlocks, blockSize, nHeads,   \
                                   nKv, chunkSize, scale);                                                         \
    }
HERD_ATTN_DECODE_HD128(herd_attention_decode_hd128_f32, float)
HERD_ATTN_DECODE_HD128(herd_attention_decode_hd128_bf16, bf16)

// Flash-decoding for headDim 128, pass 1: grid (T * nHeads, nSplits), block 128. Block (th, s) covers the s-th of
// nSplits equal runs of key tiles of its token's key range (the range depends on the position, so the split count
// is fixed per launch and a run may be empty) and writes its partial softmax state: partMax/partSum [th * nSplits +
// s] and partAcc [(th * nSplits + s) * 128 + d]. Spreading one head's keys over many blocks fills the GPU when
// T * nHeads blocks alone would leave most multiprocessors idle (batch 1: 40 blocks on 132).
template <typename KV>
__device__ void attention_split_hd128(const float* qkv, const KV* kc, const KV* vc, const int* tokPos,
                                      const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,
                                      int nHeads, int nKv, int chunkSize, float scale, float* partMax, float* partSum,
                                      float* partAcc) {
    constexpr int HD = 128;
    __shared__ float qs[HD];
    int th = blockIdx.x, s = blockIdx.y, nSplits = gridDim.y;
    int t = th / nHeads, h = th % nHeads;
    int ld = (nHeads + 2 * nKv) * HD;
    qs[threadIdx.x] = qkv[(long long)t * ld + (long long)h * HD + threadIdx.x] * scale;
    __syncthreads();
    int p = tokPos[t];
    int lo = chunkSize > 0 ? (p / chunkSize) * chunkSize : 0;
    int kvh = h / (nHeads / nKv);
    const int* table = blockTables + (long long)tokSeq[t] * maxBlocks;
    int nTiles = (p - lo) / WARP + 1;
    int perSplit = (nTiles + nSplits - 1) / nSplits;
    int begin = min(nTiles, s * perSplit), end = min(nTiles, begin + perSplit);
    float m, l;
    float num = hd128_partial<KV>(qs, kc, vc, table, blockSize, nKv, kvh, lo, p, begin, end, &m, &l);
    long long idx = (long long)th * nSplits + s;
    if (threadIdx.x == 0) { partMax[idx] = m; partSum[idx] = l; }
    partAcc[idx * HD + threadIdx.x] = num;
}
#define HERD_ATTN_SPLIT_HD128(NAME, KV)                                                                            \
    extern "C" __global__ void NAME(const float* qkv, const KV* kc, const KV* vc, const int* tokPos,              \
                                    const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,      \
                                    int nHeads, int nKv, int chunkSize, float scale, float* partMax,              \
                                    float* partSum, float* partAcc) {                                              \
        attention_split_hd128<KV>(qkv, kc, vc, tokPos, tokSeq, blockTables, maxBlocks, blockSize, nHeads, nKv,    \
                                  chunkSize, scale, partMax, partSum, partAcc);                                    \
    }
HERD_ATTN_SPLIT_HD128(herd_attention_split_hd128_f32, float)
HERD_ATTN_SPLIT_HD128(herd_attention_split_hd128_bf16, bf16)

// Flash-decoding for headDim 128, GQA-aware pass 1: grid (T * nKv, nSplits), block 128. Block (t * nKv + kvh, s)
// serves all G = nHeads / nKv query heads that share KV head kvh (G <= 8), over the same key run as
// herd_attention_split_hd128, so each key and value row is read from memory once per token instead of G times.
// Per tile of 32 keys the block stages K and V in shared memory (fp32); warp w scores heads w, w+4 (a lane per
// key) and keeps their online-softmax state; then thread d accumulates output dim d of every head. Writes the
// same partial states as herd_attention_split_hd128 (indexed by token * nHeads + head), merged by
// herd_attention_merge_hd128.
template <typename KV>
__device__ __forceinline__ void load8f(const KV* src, float* dst);
template <>
__device__ __forceinline__ void load8f<bf16>(const bf16* src, float* dst) {
    uint4 r = __ldg(reinterpret_cast<const uint4*>(src));
    const uint32_t u[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        dst[2 * j] = __uint_as_float(u[j] << 16);
        dst[2 * j + 1] = __uint_as_float(u[j] & 0xffff0000u);
    }
}
template <>
__device__ __forceinline__ void load8f<float>(const float* src, float* dst) {
    float4 a = __ldg(reinterpret_cast<const float4*>(src)), b = __ldg(reinterpret_cast<const float4*>(src) + 1);
    dst[0] = a.x; dst[1] = a.y; dst[2] = a.z; dst[3] = a.w;
    dst[4] = b.x; dst[5] = b.y; dst[6] = b.z; dst[7] = b.w;
}

template <typename KV>
__device__ void attention_gqa_hd128(const float* qkv, const KV* kc, const KV* vc, const int* tokPos,
                                    const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,
                                    int nHeads, int nKv, int chunkSize, float scale, float* partMax, float* partSum,
                                    float* partAcc) {
    constexpr int HD = 128, MAXG = 8;
    __shared__ float qs[MAXG][HD];
    __shared__ float ks[WARP][HD + 1];
    __shared__ float vs[WARP][HD];
    __shared__ float ps[MAXG][WARP];
    __shared__ float corrS[MAXG];
    int G = nHeads / nKv;
    int t = blockIdx.x / nKv, kvh = blockIdx.x % nKv, s = blockIdx.y, nSplits = gridDim.y;
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    int ld = (nHeads + 2 * nKv) * HD;
    for (int g = 0; g < G; g++)
        qs[g][threadIdx.x] = qkv[(long long)t * ld + (long long)(kvh * G + g) * HD + threadIdx.x] * scale;
    int p = tokPos[t];
    int lo = chunkSize > 0 ? (p / chunkSize) * chunkSize : 0;
    const int* table = blockTables + (long long)tokSeq[t] * maxBlocks;
    int nTiles = (p - lo) / WARP + 1;
    int perSplit = (nTiles + nSplits - 1) / nSplits;
    int begin = min(nTiles, s * perSplit), end = min(nTiles, begin + perSplit);
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, acc[MAXG];
#pragma unroll
    for (int g = 0; g < MAXG; g++) acc[g] = 0.f;
    for (int tile = begin; tile < end; tile++) {
        int j0 = lo + tile * WARP;
        __syncthreads();  // the previous tile's ks/vs/ps are consumed (and qs written before the first)
        for (int c = threadIdx.x; c < WARP * (HD / 8); c += blockDim.x) {
            int r = c / (HD / 8), col = (c % (HD / 8)) * 8;
            int j = j0 + r;
            float kv8[8], vv8[8];
            if (j <= p) {
                long long off = kv_offset(table, j, blockSize, nKv, kvh, HD) + col;
                load8f<KV>(kc + off, kv8);
                load8f<KV>(vc + off, vv8);
            } else {
#pragma unroll
                for (int e = 0; e < 8; e++) { kv8[e] = 0.f; vv8[e] = 0.f; }
            }
#pragma unroll
            for (int e = 0; e < 8; e++) { ks[r][col + e] = kv8[e]; vs[r][col + e] = vv8[e]; }
        }
        __syncthreads();
        int j = j0 + lane;
#pragma unroll
        for (int i = 0; i < 2; i++) {
            int g = warp + 4 * i;
            if (g >= G) break;
            float sc = -INFINITY;
            if (j <= p) {
                float a = 0.f;
#pragma unroll 16
                for (int d = 0; d < HD; d++) a = fmaf(qs[g][d], ks[lane][d], a);
                sc = a;
            }
            float mNew = fmaxf(m[i], warp_max(sc));
            float corr = expf(m[i] - mNew);
            float pj = j <= p ? expf(sc - mNew) : 0.f;
            l[i] = l[i] * corr + warp_sum(pj);
            m[i] = mNew;
            ps[g][lane] = pj;
            if (lane == 0) corrS[g] = corr;
        }
        __syncthreads();
        int d = threadIdx.x;
#pragma unroll
        for (int g = 0; g < MAXG; g++) {
            if (g < G) {
                float a = acc[g] * corrS[g];
#pragma unroll 8
                for (int jj = 0; jj < WARP; jj++) a = fmaf(ps[g][jj], vs[jj][d], a);
                acc[g] = a;
            }
        }
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        int g = warp + 4 * i;
        if (g < G && lane == 0) {
            long long idx = ((long long)t * nHeads + kvh * G + g) * nSplits + s;
            partMax[idx] = m[i];
            partSum[idx] = l[i];
        }
    }
#pragma unroll
    for (int g = 0; g < MAXG; g++) {
        if (g < G) {
            long long idx = ((long long)t * nHeads + kvh * G + g) * nSplits + s;
            partAcc[idx * HD + threadIdx.x] = acc[g];
        }
    }
}
#define HERD_ATTN_GQA_HD128(NAME, KV)                                                                              \
    extern "C" __global__ void NAME(const float* qkv, const KV* kc, const KV* vc, const int* tokPos,              \
                                    const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,      \
                                    int nHeads, int nKv, int chunkSize, float scale, float* partMax,              \
                                    float* partSum, float* partAcc) {                                              \
        attention_gqa_hd128<KV>(qkv, kc, vc, tokPos, tokSeq, blockTables, maxBlocks, blockSize, nHeads, nKv,      \
                                chunkSize, scale, partMax, partSum, partAcc);                                      \
    }
HERD_ATTN_GQA_HD128(herd_attention_gqa_hd128_f32, float)
HERD_ATTN_GQA_HD128(herd_attention_gqa_hd128_bf16, bf16)

// Flash-decoding pass 2: out[th, d] = sum_s e^(m_s - M) acc_s[d] / sum_s e^(m_s - M) l_s over the nSplits partial
// states of (token, head) th (empty runs have m_s = -inf and weigh nothing; run 0 is never empty). Grid T * nHeads,
// block 128 (one thread per output dim).
extern "C" __global__ void herd_attention_merge_hd128(const float* partMax, const float* partSum,
                                                      const float* partAcc, float* out, int nSplits) {
    constexpr int HD = 128;
    long long th = blockIdx.x;
    float mAll = -INFINITY;
    for (int s = 0; s < nSplits; s++) mAll = fmaxf(mAll, partMax[th * nSplits + s]);
    float num = 0.f, den = 0.f;
    for (int s = 0; s < nSplits; s++) {
        float ms = partMax[th * nSplits + s];
        float f = ms == -INFINITY ? 0.f : expf(ms - mAll);
        num += f * partAcc[(th * nSplits + s) * HD + threadIdx.x];
        den += f * partSum[th * nSplits + s];
    }
    out[th * HD + threadIdx.x] = num / den;
}

// Prefill attention, tiled: one block per (tile of 16 consecutive query tokens of one sequence, query head). The
// block stages 32 keys and values at a time in shared memory and every query of the tile reads them from there, so
// K/V are loaded once per tile instead of once per query. The host guarantees that the 16 tokens of a tile belong
// to one sequence and have consecutive positions (tileStart[b] = first token index, tileLen[b] <= 16).
// Block 128 threads = 4 warps; each warp owns 4 queries. headDim <= 128.
template <typename KV>
__device__ void attention_prefill(const float* qkv, float* out, const KV* kc, const KV* vc, const int* tokPos,
                                  const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize, int nHeads,
                                  int nKv, int headDim, int chunkSize, float scale, const int* tileStart,
                                  const int* tileLen) {
    __shared__ float ks[32][129];
    __shared__ float vs[32][128];
    __shared__ float qs[16][128];
    int tile = blockIdx.x, h = blockIdx.y;
    int t0 = tileStart[tile], nq = tileLen[tile];
    int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
    int ld = (nHeads + 2 * nKv) * headDim;
    int kvh = h / (nHeads / nKv);
    const int* table = blockTables + (long long)tokSeq[t0] * maxBlocks;
    int pFirst = tokPos[t0], pLast = tokPos[t0 + nq - 1];
    for (int i = threadIdx.x; i < 16 * headDim; i += blockDim.x) {
        int qi = i / headDim, d = i % headDim;
        qs[qi][d] = qi < nq ? qkv[(long long)(t0 + qi) * ld + (long long)h * headDim + d] * scale : 0.f;
    }
    // Keys needed by the tile: from the lowest lo of its queries to pLast.
    int lo = chunkSize > 0 ? (pFirst / chunkSize) * chunkSize : 0;
    float m[4], l[4], acc[4][4];
#pragma unroll
    for (int a = 0; a < 4; a++) {
        m[a] = -INFINITY; l[a] = 0.f;
#pragma unroll
        for (int i = 0; i < 4; i++) acc[a][i] = 0.f;
    }
    for (int j0 = lo; j0 <= pLast; j0 += 32) {
        __syncthreads();
        for (int i = threadIdx.x; i < 32 * headDim; i += blockDim.x) {
            int jj = i / headDim, d = i % headDim, j = j0 + jj;
            if (j <= pLast) {
                long long off = kv_offset(table, j, blockSize, nKv, kvh, headDim);
                ks[jj][d] = to_f(kc[off + d]);
                vs[jj][d] = to_f(vc[off + d]);
            }
        }
        __syncthreads();
#pragma unroll
        for (int a = 0; a < 4; a++) {
            int qi = warp * 4 + a;
            if (qi >= nq) break;
            int p = pFirst + qi;
            int qlo = chunkSize > 0 ? (p / chunkSize) * chunkSize : 0;
            int j = j0 + lane;
            float s = -INFINITY;
            if (j <= p && j >= qlo) {
                float dot = 0.f;
                for (int d = 0; d < headDim; d++) dot = fmaf(qs[qi][d], ks[lane][d], dot);
                s = dot;
            }
            float tileMax = warp_max(s);
            if (tileMax == -INFINITY) continue;  // nothing visible in this tile for this query
            float mNew = fmaxf(m[a], tileMax);
            float corr = __expf(m[a] - mNew);
            float pj = s == -INFINITY ? 0.f : expf(s - mNew);
            l[a] = l[a] * corr + warp_sum(pj);
#pragma unroll
            for (int i = 0; i < 4; i++) acc[a][i] *= corr;
            m[a] = mNew;
            for (int jj = 0; jj < 32; jj++) {
                float pw = __shfl_sync(FULL_MASK, pj, jj);
                if (pw == 0.f) continue;
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int d = lane + WARP * i;
                    if (d < headDim) acc[a][i] = fmaf(pw, vs[jj][d], acc[a][i]);
                }
            }
        }
    }
#pragma unroll
    for (int a = 0; a < 4; a++) {
        int qi = warp * 4 + a;
        if (qi >= nq) break;
        float* o = out + (long long)(t0 + qi) * nHeads * headDim + (long long)h * headDim;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int d = lane + WARP * i;
            if (d < headDim) o[d] = acc[a][i] / l[a];
        }
    }
}
#define HERD_ATTN_PREFILL(NAME, KV)                                                                                \
    extern "C" __global__ void NAME(const float* qkv, float* out, const KV* kc, const KV* vc, const int* tokPos,  \
                                    const int* tokSeq, const int* blockTables, int maxBlocks, int blockSize,      \
                                    int nHeads, int nKv, int headDim, int chunkSize, float scale,                 \
                                    const int* tileStart, const int* tileLen) {                                   \
        attention_prefill<KV>(qkv, out, kc, vc, tokPos, tokSeq, blockTables, maxBlocks, blockSize, nHeads, nKv,   \
                              headDim, chunkSize, scale, tileStart, tileLen);                                      \
    }
HERD_ATTN_PREFILL(herd_attention_prefill_f32, float)
HERD_ATTN_PREFILL(herd_attention_prefill_bf16, bf16)

// ---------------------------------------------------------------------------------------------------------------
// Mixture of experts: router, permutation by expert, un-permutation
// ---------------------------------------------------------------------------------------------------------------

// Per token: the k largest router logits (ties go to the lower expert index), ids[t*k + j] and the sigmoid score.
extern "C" __global__ void herd_router_topk_sigmoid_f32(const float* logits, int nExperts, int k, int* ids,
                                                        float* scores, int nTok) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nTok) return;
    const float* r = logits + (long long)t * nExperts;
    for (int j = 0; j < k; j++) {
        int best = -1;
        float bv = -INFINITY;
        for (int e = 0; e < nExperts; e++) {
            bool taken = false;
            for (int q = 0; q < j; q++) taken |= ids[t * k + q] == e;
            if (!taken && (best < 0 || r[e] > bv)) { best = e; bv = r[e]; }
        }
        ids[t * k + j] = best;
        scores[t * k + j] = 1.f / (1.f + expf(-bv));
    }
}

// The shared expert can ride along as one more group (index nExperts, score 1) so that a small decode step runs the
// routed and the shared expert in the same grouped launches: then token t has kk = k + 1 assignments, the last one
// the shared expert's. assignment_expert gives the group of assignment a (a = t * kk + j).
__device__ __forceinline__ int assignment_expert(const int* ids, int a, int k, int kk, int nExperts) {
    int t = a / kk, j = a % kk;
    return j < k ? ids[t * k + j] : nExperts;
}

// Groups the nTok * kk assignments by expert: offsets[e]..offsets[e+1] are group e's rows of the permuted buffer
// (nExperts + shared groups), posOfAssign[a] the row of assignment a, assignOfPos[row] its inverse. One block of
// 1024 threads; nExperts + shared <= 1024.
extern "C" __global__ void herd_moe_route(const int* ids, int nTok, int k, int shared, int nExperts, int* offsets,
                                          int* posOfAssign, int* assignOfPos) {
    __shared__ int count[1024];
    __shared__ int cursor[1024];
    int kk = k + shared, nGroups = nExperts + shared, nAssign = nTok * kk;
    for (int e = threadIdx.x; e < nGroups; e += blockDim.x) count[e] = 0;
    __syncthreads();
    for (int a = threadIdx.x; a < nAssign; a += blockDim.x) atomicAdd(&count[assignment_expert(ids, a, k, kk, nExperts)], 1);
    __syncthreads();
    if (threadIdx.x == 0) {
        int run = 0;
        for (int e = 0; e < nGroups; e++) { offsets[e] = run; cursor[e] = run; run += count[e]; }
        offsets[nGroups] = run;
    }
    __syncthreads();
    for (int a = threadIdx.x; a < nAssign; a += blockDim.x) {
        int pos = atomicAdd(&cursor[assignment_expert(ids, a, k, kk, nExperts)], 1);
        posOfAssign[a] = pos;
        assignOfPos[pos] = a;
    }
}

// The input row of a permuted row: token a / kk's x, times its router score (Llama 4 scales the routed expert's
// input; the shared expert's assignment, j == k, takes x as is).
__device__ __forceinline__ float permute_scale(const float* scores, int a, int k, int kk) {
    int j = a % kk;
    return j < k ? scores[(a / kk) * k + j] : 1.f;
}

// xp[row] = x[token of assignment] * score. Grid (nAssign, slices), block 256: blockIdx.y takes every gridDim.y-th
// run of 256 elements, so one row is spread over several blocks (a decode step has a single row; one block walking
// 5120 elements is latency-bound). Same arithmetic per element for any grid.
extern "C" __global__ void herd_moe_permute_f32(const float* x, const int* assignOfPos, const float* scores, float* xp,
                                                int k, int shared, int dim) {
    int row = blockIdx.x;
    int a = assignOfPos[row];
    int kk = k + shared;
    float s = permute_scale(scores, a, k, kk);
    const float* src = x + (long long)(a / kk) * dim;
    for (int i = blockIdx.y * blockDim.x + threadIdx.x; i < dim; i += gridDim.y * blockDim.x)
        xp[(long long)row * dim + i] = src[i] * s;
}

// herd_moe_permute_f32 followed by herd_quantize_act_q8 in one launch: the permuted row's int8 activations (the
// same values bit for bit), without writing the f32 row. Warp per 32-input group, nGroups = nRows * dim / 32.
extern "C" __global__ void herd_moe_permute_quantize_f32(const float* x, const int* assignOfPos, const float* scores,
                                                         int k, int shared, int dim, int8_t* xq, float* xs, int* xsum,
                                                         int int4Order, long long nGroups) {
    long long gid = blockIdx.x * (long long)(blockDim.x / WARP) + threadIdx.x / WARP;
    if (gid >= nGroups) return;
    int lane = threadIdx.x % WARP;
    int groupsPerRow = dim / 32;
    long long row = gid / groupsPerRow, g = gid % groupsPerRow;
    int a = assignOfPos[row];
    int kk = k + shared;
    float v = x[(long long)(a / kk) * dim + g * 32 + lane] * permute_scale(scores, a, k, kk);
    quantize_group_q8(v, xq, xs, xsum, gid, row * dim + g * 32, lane, int4Order);
}

// h[t] += sum over t's k (+ shared) assignments of yp[row], in assignment order. Grid (T, slices), block 256; slices
// as in herd_moe_permute_f32.
extern "C" __global__ void herd_moe_unpermute_add_f32(const float* yp, const int* posOfAssign, float* h, int k,
                                                      int shared, int dim) {
    int t = blockIdx.x;
    int kk = k + shared;
    for (int i = blockIdx.y * blockDim.x + threadIdx.x; i < dim; i += gridDim.y * blockDim.x) {
        float s = 0.f;
        for (int j = 0; j < kk; j++) s += yp[(long long)posOfAssign[t * kk + j] * dim + i];
        h[(long long)t * dim + i] += s;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling helpers
// ---------------------------------------------------------------------------------------------------------------

// out[r] = argmax of row r (lowest index on ties). Grid (rows), block 256.
extern "C" __global__ void herd_argmax_f32(const float* logits, int vocab, int* out) {
    __shared__ float bv[256];
    __shared__ int bi[256];
    const float* row = logits + (long long)blockIdx.x * vocab;
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x)
        if (row[i] > best) { best = row[i]; idx = i; }
    bv[threadIdx.x] = best;
    bi[threadIdx.x] = idx;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            float ov = bv[threadIdx.x + s];
            int oi = bi[threadIdx.x + s];
            if (ov > bv[threadIdx.x] || (ov == bv[threadIdx.x] && oi < bi[threadIdx.x])) {
                bv[threadIdx.x] = ov;
                bi[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = bi[0];
}

// ---------------------------------------------------------------------------------------------------------------
// Dequantization for the tensor-core path of many-row linears: rows [r0, r0 + nRows) of an INT4/INT8 matrix
// [nOut, nIn] (bf16 scales [nOut, nIn / group]) into a bf16 [nRows, nIn] scratch that cuBLAS then multiplies.
// Each thread writes 8 consecutive weights (one 16-byte store); w = (q [- 8]) * scale in fp32, rounded to bf16
// once. group and nIn are multiples of 8.
// ---------------------------------------------------------------------------------------------------------------

extern "C" __global__ void herd_dequant_int4_bf16(const uint8_t* __restrict__ q, const bf16* __restrict__ scales,
                                                  bf16* __restrict__ out, long long r0, int nRows, int nIn,
                                                  int group) {
    long long nVec = (long long)nRows * (nIn / 8);
    for (long long v = blockIdx.x * (long long)blockDim.x + threadIdx.x; v < nVec;
         v += (long long)gridDim.x * blockDim.x) {
        long long r = v / (nIn / 8), c = (v % (nIn / 8)) * 8;
        long long row = r0 + r;
        uint32_t packed = __ldg(reinterpret_cast<const uint32_t*>(q + row * (nIn / 2) + c / 2));
        float s = __bfloat162float(scales[row * (nIn / group) + c / group]);
        __align__(16) bf16 w[8];
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = __float2bfloat16_rn((float)((int)((packed >> (4 * i)) & 0xF) - 8) * s);
        *reinterpret_cast<uint4*>(out + r * nIn + c) = *reinterpret_cast<const uint4*>(w);
    }
}

extern "C" __global__ void herd_dequant_int8_bf16(const int8_t* __restrict__ q, const bf16* __restrict__ scales,
                                                  bf16* __restrict__ out, long long r0, int nRows, int nIn,
                                                  int group) {
    long long nVec = (long long)nRows * (nIn / 8);
    for (long long v = blockIdx.x * (long long)blockDim.x + threadIdx.x; v < nVec;
         v += (long long)gridDim.x * blockDim.x) {
        long long r = v / (nIn / 8), c = (v % (nIn / 8)) * 8;
        long long row = r0 + r;
        uint2 packed = __ldg(reinterpret_cast<const uint2*>(q + row * nIn + c));
        const int8_t* b = reinterpret_cast<const int8_t*>(&packed);
        float s = __bfloat162float(scales[row * (nIn / group) + c / group]);
        __align__(16) bf16 w[8];
#pragma unroll
        for (int i = 0; i < 8; i++) w[i] = __float2bfloat16_rn((float)b[i] * s);
        *reinterpret_cast<uint4*>(out + r * nIn + c) = *reinterpret_cast<const uint4*>(w);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Fused router: logits[t, e] = x[t] . W[e] (fp32, W [nExperts, nIn]) and the top-k + sigmoid of
// herd_router_topk_sigmoid_f32 in one launch. Grid (T), block min(1024, 32 * nExperts): a warp per expert
// (warps loop when nExperts > 32), so every expert row is read by its own warp instead of 8 experts per block.
// nIn % 4 == 0; nExperts <= 1024.
// ---------------------------------------------------------------------------------------------------------------

extern "C" __global__ void herd_router_fused_f32(const float* __restrict__ x, const float* __restrict__ w,
                                                 float* __restrict__ logits, int nExperts, int nIn, int k,
                                                 int* ids, float* scores) {
    __shared__ float sl[1024];
    int t = blockIdx.x, lane = threadIdx.x % WARP, warp = threadIdx.x / WARP, nWarps = blockDim.x / WARP;
    const float4* xv = reinterpret_cast<const float4*>(x + (long long)t * nIn);
    for (int e = warp; e < nExperts; e += nWarps) {
        const float4* wv = reinterpret_cast<const float4*>(w + (long long)e * nIn);
        float a = 0.f;
        for (int i = lane; i < nIn / 4; i += WARP) {
            float4 xx = __ldg(xv + i), ww = __ldg(wv + i);
            a = fmaf(ww.x, xx.x, a);
            a = fmaf(ww.y, xx.y, a);
            a = fmaf(ww.z, xx.z, a);
            a = fmaf(ww.w, xx.w, a);
        }
        a = warp_sum(a);
        if (lane == 0) {
            sl[e] = a;
            logits[(long long)t * nExperts + e] = a;
        }
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    for (int j = 0; j < k; j++) {
        int best = -1;
        float bv = -INFINITY;
        for (int e = 0; e < nExperts; e++) {
            bool taken = false;
            for (int q = 0; q < j; q++) taken |= ids[t * k + q] == e;
            if (!taken && (best < 0 || sl[e] > bv)) { best = e; bv = sl[e]; }
        }
        ids[t * k + j] = best;
        scores[t * k + j] = 1.f / (1.f + expf(-bv));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Argmax in two passes (same result as herd_argmax_f32: the largest value, the lowest index among equal ones,
// NaN never chosen). Pass 1, grid (rows, slices), block 256: block (r, s) reduces the s-th of gridDim.y equal
// slices of row r to (value, index) at partial[r * gridDim.y + s]. Pass 2, grid (rows), block 256: reduces a row's
// nSlices (<= 256) partials. One block per row walked a 202048-entry vocabulary alone; slices spread it over the GPU.
// ---------------------------------------------------------------------------------------------------------------

__device__ void argmax_block_reduce(float best, int idx, float* outV, int* outI) {
    __shared__ float bv[256];
    __shared__ int bi[256];
    bv[threadIdx.x] = best;
    bi[threadIdx.x] = idx;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            float ov = bv[threadIdx.x + s];
            int oi = bi[threadIdx.x + s];
            if (ov > bv[threadIdx.x] || (ov == bv[threadIdx.x] && oi < bi[threadIdx.x])) {
                bv[threadIdx.x] = ov;
                bi[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) { *outV = bv[0]; *outI = bi[0]; }
}

extern "C" __global__ void herd_argmax_partial_f32(const float* logits, int vocab, float* partV, int* partI) {
    const float* row = logits + (long long)blockIdx.x * vocab;
    int per = (vocab + gridDim.y - 1) / gridDim.y;
    int begin = blockIdx.y * per, end = min(vocab, begin + per);
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (int i = begin + threadIdx.x; i < end; i += blockDim.x)
        if (row[i] > best) { best = row[i]; idx = i; }
    long long slot = (long long)blockIdx.x * gridDim.y + blockIdx.y;
    argmax_block_reduce(best, idx, partV + slot, partI + slot);
}

extern "C" __global__ void herd_argmax_final(const float* partV, const int* partI, int nSlices, int* out) {
    float best = -INFINITY;
    int idx = 0x7fffffff;
    if (threadIdx.x < nSlices) {
        long long slot = (long long)blockIdx.x * nSlices + threadIdx.x;
        best = partV[slot];
        idx = partI[slot];
    }
    __shared__ float v;
    __shared__ int i;
    argmax_block_reduce(best, idx, &v, &i);
    if (threadIdx.x == 0) out[blockIdx.x] = i;
}
