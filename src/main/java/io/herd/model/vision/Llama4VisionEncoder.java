package io.herd.model.vision;

import io.herd.compute.DType;
import io.herd.compute.Matrices;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Llama 4's vision encoder on the CPU: tiles of normalised pixels → per-patch hidden states (class token dropped
 * later by the adapter). Each tile is encoded on its own: patch embedding, class token appended last, learned
 * positions, pre-LayerNorm, pre-norm encoder layers with unmasked multi-head attention and 2D RoPE, post-LayerNorm
 * (the fixture README of {@code llama4-tiny-vision} describes each step). fp32 throughout; the Linear layers are
 * {@link io.herd.compute.Matrix} products over all tiles' tokens at once.
 */
public final class Llama4VisionEncoder {
    private final Llama4VisionWeights weights;
    private final Llama4VisionConfig config;
    /** Per token of a tile (patches, then the class token) and per RoPE pair: cos and sin of its angle. */
    private final float[] ropeCos, ropeSin;

    public Llama4VisionEncoder(Llama4VisionWeights weights) {
        this.weights = weights;
        this.config = weights.config();
        int d = config.headDim(), quarter = d / 4, side = config.patchesPerSide(), nTok = config.patchesPerTile() + 1;
        ropeCos = new float[nTok * d / 2];
        ropeSin = new float[nTok * d / 2];
        // HF in fp32: θi = 1 / theta^(2i / (d/2)); pair i turns by (col+1)·θi, pair d/4+i by (row+1)·θi; the class
        // token does not turn (cos 1, sin 0).
        float[] theta = new float[quarter];
        for (int i = 0; i < quarter; i++) theta[i] = 1f / (float) Math.pow(config.ropeTheta(), (float) (2 * i) / (d / 2));
        for (int t = 0; t < nTok; t++)
            for (int j = 0; j < d / 2; j++) {
                float angle = 0;
                if (t < config.patchesPerTile()) {
                    int coordinate = j < quarter ? t % side : t / side;
                    angle = (float) (coordinate + 1) * theta[j % quarter];
                }
                ropeCos[t * d / 2 + j] = (float) Math.cos(angle);
                ropeSin[t * d / 2 + j] = (float) Math.sin(angle);
            }
    }

    public Llama4VisionConfig config() { return config; }

    /** Tokens per tile inside the encoder: every patch plus the class token. */
    public int tokensPerTile() { return config.patchesPerTile() + 1; }

    /** pixels [T, 3, S, S] → encoder output [T, patches+1, hidden] (class token last). */
    public float[] encode(float[] pixels, int nTiles) {
        return encodeLayers(encoderInput(embedPatches(pixels, nTiles), nTiles), nTiles);
    }

    /** pixels [T, 3, S, S] → patch embeddings [T, patches, hidden], patches row-major over the tile. */
    public float[] embedPatches(float[] pixels, int nTiles) {
        int s = config.imageSize(), p = config.patchSize(), side = config.patchesPerSide(), nPatch = config.patchesPerTile();
        int elems = config.patchElements();
        if (pixels.length != nTiles * Llama4VisionConfig.CHANNELS * s * s)
            throw new IllegalArgumentException("pixels: " + pixels.length + " values for " + nTiles + " tiles of " + s + "²");
        float[] patches = new float[nTiles * nPatch * elems];
        for (int t = 0; t < nTiles; t++)
            for (int n = 0; n < nPatch; n++) {
                int row = n / side, col = n % side, out = (t * nPatch + n) * elems;
                for (int c = 0; c < Llama4VisionConfig.CHANNELS; c++)
                    for (int dy = 0; dy < p; dy++)
                        System.arraycopy(pixels, ((t * 3 + c) * s + row * p + dy) * s + col * p, patches,
                                out + (c * p + dy) * p, p);
            }
        return VisionMath.matmul(weights.patchEmbedding(), patches, nTiles * nPatch);
    }

    /** patch embeddings [T, patches, hidden] → [T, patches+1, hidden]: class token appended, positions added, pre-norm. */
    public float[] encoderInput(float[] patchEmbeds, int nTiles) {
        int h = config.hiddenSize(), nPatch = config.patchesPerTile(), nTok = nPatch + 1;
        float[] x = new float[nTiles * nTok * h];
        float[] pos = weights.positions(), cls = weights.classEmbedding();
        for (int t = 0; t < nTiles; t++) {
            System.arraycopy(patchEmbeds, t * nPatch * h, x, t * nTok * h, nPatch * h);
            System.arraycopy(cls, 0, x, (t * nTok + nPatch) * h, h);
            for (int i = 0; i < nTok * h; i++) x[t * nTok * h + i] += pos[i];
        }
        return VisionMath.layerNorm(x, weights.preNorm(), nTiles * nTok, h);
    }

    /** encoder input → encoder output (all layers, then the post-LayerNorm), same shape. */
    public float[] encodeLayers(float[] x, int nTiles) {
        int h = config.hiddenSize(), nTok = tokensPerTile(), n = nTiles * nTok;
        x = x.clone();
        for (Llama4VisionWeights.EncoderLayer layer : weights.layers()) {
            float[] xn = VisionMath.layerNorm(x, layer.inputNorm(), n, h);
            float[] attn = VisionMath.linear(layer.o(), attention(layer, xn, nTiles), n);
            for (int i = 0; i < x.length; i++) x[i] += attn[i];
            xn = VisionMath.layerNorm(x, layer.postAttentionNorm(), n, h);
            float[] hidden = VisionMath.linear(layer.fc1(), xn, n);
            VisionMath.gelu(hidden);
            float[] mlp = VisionMath.linear(layer.fc2(), hidden, n);
            for (int i = 0; i < x.length; i++) x[i] += mlp[i];
        }
        return VisionMath.layerNorm(x, weights.postNorm(), n, h);
    }

    /**
     * Multi-head attention within each tile, no mask: S = Q·Kᵀ/√d and O = softmax(S)·V as two matrix products per
     * (tile, head) over an off-heap copy of that head's keys and values.
     */
    private float[] attention(Llama4VisionWeights.EncoderLayer layer, float[] xn, int nTiles) {
        int h = config.hiddenSize(), d = config.headDim(), nTok = tokensPerTile(), n = nTiles * nTok;
        float[] q = VisionMath.linear(layer.q(), xn, n), k = VisionMath.linear(layer.k(), xn, n);
        float[] v = VisionMath.linear(layer.v(), xn, n);
        for (int t = 0; t < n; t++)
            for (int head = 0; head < config.nHeads(); head++) {
                rotate(q, t * h + head * d, t % nTok);
                rotate(k, t * h + head * d, t % nTok);
            }
        float[] out = new float[n * h];
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] qh = new float[nTok * d], scores = new float[nTok * nTok], oh = new float[nTok * d];
        try (Arena arena = Arena.ofShared()) {
            MemorySegment keys = arena.allocate((long) nTok * d * Float.BYTES, 64);
            MemorySegment values = arena.allocate((long) nTok * d * Float.BYTES, 64);
            var keyMatrix = Matrices.rowMajor(keys, DType.F32, nTok, d);       // S = Q · Kᵀ
            var valueMatrix = Matrices.inputMajor(values, DType.F32, nTok, d); // O = P · V
            for (int tile = 0; tile < nTiles; tile++)
                for (int head = 0; head < config.nHeads(); head++) {
                    int base = tile * nTok * h + head * d;
                    for (int i = 0; i < nTok; i++) {
                        MemorySegment.copy(k, base + i * h, keys, ValueLayout.JAVA_FLOAT, (long) i * d * Float.BYTES, d);
                        MemorySegment.copy(v, base + i * h, values, ValueLayout.JAVA_FLOAT, (long) i * d * Float.BYTES, d);
                        System.arraycopy(q, base + i * h, qh, i * d, d);
                    }
                    keyMatrix.matmul(qh, scores, nTok);
                    for (int i = 0; i < nTok; i++) softmax(scores, i * nTok, nTok, scale);
                    valueMatrix.matmul(scores, oh, nTok);
                    for (int i = 0; i < nTok; i++) System.arraycopy(oh, i * d, out, base + i * h, d);
                }
        }
        return out;
    }

    private static void softmax(float[] s, int off, int n, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, s[off + i] * scale);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(s[off + i] * scale - max);
            s[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) s[off + i] *= inv;
    }

    /** 2D RoPE on one head vector at {@code off}: adjacent pairs turned as complex numbers by the token's angles. */
    private void rotate(float[] x, int off, int token) {
        int half = config.headDim() / 2;
        for (int j = 0; j < half; j++) {
            float c = ropeCos[token * half + j], s = ropeSin[token * half + j];
            float a = x[off + 2 * j], b = x[off + 2 * j + 1];
            x[off + 2 * j] = a * c - b * s;
            x[off + 2 * j + 1] = a * s + b * c;
        }
    }
}
