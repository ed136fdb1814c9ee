package io.herd.cli;

import io.herd.compute.DType;
import io.herd.compute.Matrices;
import io.herd.compute.Matrix;
import io.herd.model.vision.Llama4VisionConfig;
import io.herd.model.vision.Llama4VisionWeights;
import io.herd.compute.Q8Weights;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4Weights;
import io.herd.model.WeightQuantization;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds a Llama 4 model of real dimensions from random BF16 weights in off-heap memory, laid out as the checkpoint
 * lays them out (HF Linear [out, in]; fused experts [nExperts, dModel, 2·dFf] and [nExperts, dFf, dModel] sliced
 * input-major), so the benchmark runs the same kernels on the same layouts as a loaded model. Values are uniform with
 * std 1/sqrt(fan-in) (router wider, norm gains 1), which keeps activations O(1) through any number of layers.
 * With Q8, each matrix is generated in a scratch arena and only its quantized copy is kept, as the loader keeps it;
 * the router and the embedding stay BF16.
 *
 * <p>Owner of the memory: the arena passed in (the caller closes it after the run).
 */
final class RandomWeights {
    private static final ValueLayout.OfLong WORDS = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes filled per parallel task; each task's values depend only on (seed, offset), not on thread timing. */
    static final long FILL_PIECE = 1 << 22;

    private final Arena arena;
    private final WeightQuantization quantization;
    private final int q8GroupSize;
    private final CpuThreadPool pool;
    private final CountingMatrix.Counters counters;
    private long seed;

    RandomWeights(Arena arena, WeightQuantization quantization, int q8GroupSize, CpuThreadPool pool, long seed,
                  CountingMatrix.Counters counters) {
        this.arena = arena;
        this.quantization = quantization;
        this.q8GroupSize = q8GroupSize;
        this.pool = pool;
        this.counters = counters;
        this.seed = seed;
    }

    /** Bytes of weight memory {@link #build} allocates for {@code config} (Q8 scales included). */
    static long residentBytes(Llama4Config c, WeightQuantization quantization, int q8GroupSize) {
        long d = c.dModel();
        long kept = 2 * c.vocabSize() * d; // embedding, BF16 in both modes
        long quantizable = c.vocabSize() * d; // lm_head
        for (int i = 0; i < c.nLayers(); i++) {
            quantizable += d * (2L * c.qDim() + 2L * c.kvDim());
            if (c.isMoeLayer(i)) {
                kept += 2L * c.nExperts() * d;
                quantizable += 3L * c.nExperts() * c.dFf() * d + 3L * c.dFf() * d;
            } else {
                quantizable += 3L * c.dFfMlp() * d;
            }
        }
        double perWeight = quantization == WeightQuantization.Q8
                ? 1 + (double) Q8Weights.SCALE_BYTES / (q8GroupSize == 0 ? d : q8GroupSize) : 2;
        return kept + (long) (quantizable * perWeight);
    }

    Llama4Weights build(Llama4Config c) {
        int d = c.dModel(), v = c.vocabSize();
        Matrix embed = count(Matrices.rowMajor(random((long) v * d, 1.0), DType.BF16, v, d));
        List<Llama4Weights.Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.nLayers(); i++) {
            var attention = new Llama4Weights.Attention(linear(c.qDim(), d), linear(c.kvDim(), d), linear(c.kvDim(), d),
                    linear(d, c.qDim()));
            Llama4Weights.FeedForward ffn;
            if (c.isMoeLayer(i)) {
                int nE = c.nExperts(), f = c.dFf();
                Matrix router = count(Matrices.rowMajor(random((long) nE * d, 3.0 / Math.sqrt(d)), DType.BF16, nE, d));
                List<Matrix> gateUp = new ArrayList<>(nE), down = new ArrayList<>(nE);
                for (int e = 0; e < nE; e++) {
                    gateUp.add(expert(d, 2 * f));
                    down.add(expert(f, d));
                }
                var shared = new Llama4Weights.Mlp(linear(f, d), linear(f, d), linear(d, f));
                ffn = new Llama4Weights.Moe(router, gateUp, down, shared);
            } else {
                int fm = c.dFfMlp();
                ffn = new Llama4Weights.Mlp(linear(fm, d), linear(fm, d), linear(d, fm));
            }
            layers.add(new Llama4Weights.Layer(ones(d), attention, ones(d), ffn));
        }
        return new Llama4Weights(c, embed, layers, ones(d), linear(v, d));
    }

    /**
     * A vision tower, adapter and projector of {@code c}: BF16 matrices as the published checkpoints store them (never
     * quantized: the tower runs on its checkpoint's weights), small random biases and embeddings, unit norms.
     */
    Llama4VisionWeights buildVision(Llama4VisionConfig c) {
        int h = c.hiddenSize(), ff = c.intermediateSize(), out = c.visionOutputDim();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed++);
        List<Llama4VisionWeights.EncoderLayer> layers = new ArrayList<>();
        for (int i = 0; i < c.nLayers(); i++)
            layers.add(new Llama4VisionWeights.EncoderLayer(visionNorm(h),
                    visionLinear(h, h, rnd), visionLinear(h, h, rnd), visionLinear(h, h, rnd), visionLinear(h, h, rnd),
                    visionNorm(h), visionLinear(ff, h, rnd), visionLinear(h, ff, rnd)));
        return new Llama4VisionWeights(c, bf16(h, c.patchElements()), small(h, rnd),
                small((c.patchesPerTile() + 1) * h, rnd), visionNorm(h), layers, visionNorm(h),
                bf16(out, ff), bf16(out, out), bf16(c.textHiddenSize(), out));
    }

    private Llama4VisionWeights.Linear visionLinear(int nOut, int nIn, java.util.SplittableRandom rnd) {
        return new Llama4VisionWeights.Linear(bf16(nOut, nIn), small(nOut, rnd));
    }

    private Matrix bf16(int nOut, int nIn) {
        return count(Matrices.rowMajor(random((long) nOut * nIn, 1 / Math.sqrt(nIn)), DType.BF16, nOut, nIn));
    }

    private static Llama4VisionWeights.LayerNorm visionNorm(int n) {
        return new Llama4VisionWeights.LayerNorm(ones(n), new float[n]);
    }

    private static float[] small(int n, java.util.SplittableRandom rnd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble(-0.02, 0.02));
        return a;
    }

    /** An HF Linear [nOut, nIn], quantized when asked. */
    private Matrix linear(int nOut, int nIn) {
        return quantizable((scratch) -> Matrices.rowMajor(random(scratch, (long) nOut * nIn, 1 / Math.sqrt(nIn)),
                DType.BF16, nOut, nIn));
    }

    /** One expert's input-major slice [nIn, nOut] of a fused expert tensor. */
    private Matrix expert(int nIn, int nOut) {
        return quantizable((scratch) -> Matrices.inputMajor(random(scratch, (long) nIn * nOut, 1 / Math.sqrt(nIn)),
                DType.BF16, nIn, nOut));
    }

    private Matrix quantizable(java.util.function.Function<Arena, Matrix> make) {
        if (quantization == WeightQuantization.NONE) return count(make.apply(arena));
        try (Arena scratch = Arena.ofShared()) {
            return count(Matrices.quantizeQ8(make.apply(scratch), q8GroupSize, arena));
        }
    }

    private Matrix count(Matrix m) {
        return new CountingMatrix(m, counters);
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    private MemorySegment random(long n, double std) {
        return random(arena, n, std);
    }

    /** n BF16 values, uniform on ±std·√3, from the next stream seed ({@link #fillUniformBf16}). */
    private MemorySegment random(Arena owner, long n, double std) {
        MemorySegment seg = owner.allocate(2 * n, 64);
        fillUniformBf16(seg, 0, seed++, std, pool);
        return seg;
    }

    /**
     * Fills {@code dst} with bytes [{@code streamOffset}, {@code streamOffset + dst.byteSize()}) of the BF16 stream
     * {@code streamSeed}: values uniform on ±std·√3 from a 64-bit counter hash, each 16-bit slice of a hash word
     * indexing a table of the 65,536 possible values, which fills gigabytes in seconds. The stream is cut into
     * {@value #FILL_PIECE}-byte pieces whose values depend only on (seed, piece offset), so filling a tensor whole or
     * piece by piece (the GGUF export does the latter) gives the same bytes.
     *
     * @param streamOffset a multiple of {@value #FILL_PIECE}; the end of {@code dst} is taken as the end of the stream
     */
    static void fillUniformBf16(MemorySegment dst, long streamOffset, long streamSeed, double std, CpuThreadPool pool) {
        if (streamOffset % FILL_PIECE != 0)
            throw new IllegalArgumentException("stream offset " + streamOffset + " is not a multiple of " + FILL_PIECE);
        short[] table = new short[1 << 16];
        double half = std * Math.sqrt(3);
        for (int u = 0; u < table.length; u++) {
            float value = (float) (((u + 0.5) / 65536.0 * 2 - 1) * half);
            table[u] = (short) (Float.floatToRawIntBits(value) >>> 16);
        }
        long end = streamOffset + dst.byteSize();
        long nPieces = (dst.byteSize() + FILL_PIECE - 1) / FILL_PIECE;
        pool.parallelFor(Math.toIntExact(nPieces), piece -> {
            long from = streamOffset + piece * FILL_PIECE, to = Math.min(end, from + FILL_PIECE);
            long counter = streamSeed * 0x9E3779B97F4A7C15L + from;
            long off = from;
            for (; off + 8 <= to; off += 8) {
                long h = mix(counter++);
                long word = (table[(int) (h & 0xffff)] & 0xffffL) | (table[(int) (h >>> 16 & 0xffff)] & 0xffffL) << 16
                        | (table[(int) (h >>> 32 & 0xffff)] & 0xffffL) << 32 | (table[(int) (h >>> 48)] & 0xffffL) << 48;
                dst.set(WORDS, off - streamOffset, word);
            }
            for (; off < to; off += 2)
                dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, off - streamOffset, table[(int) (mix(counter++) & 0xffff)]);
        });
    }

    /** SplitMix64 finaliser: a cheap, well-mixed hash of a counter. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
