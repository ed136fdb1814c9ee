package io.herd.model;

import io.herd.compute.DType;
import io.herd.compute.Matrices;
import io.herd.compute.Matrix;
import io.herd.compute.cpu.Bf16;
import io.herd.compute.cpu.CpuThreadPool;
import io.herd.compute.cpu.FloatOps;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The Llama 4 text forward pass on the CPU (SPEC §3–§9) over a paged KV cache it allocates itself.
 *
 * <p><b>KV layout.</b> One off-heap fp32 segment for K and one for V per layer, each
 * {@code [nBlocks, blockSize, nKvHeads, headDim]} (headDim contiguous), where nBlocks is the block count of the
 * layer's group: GLOBAL for NoPE layers, CHUNKED for RoPE layers. K/V of position p of a sequence live in block
 * {@code table[p / blockSize]} of the group, slot {@code p % blockSize}. K is stored after RoPE and qk-norm (RoPE
 * layers) or raw (NoPE layers; the temperature scale is applied to q only). In {@link Precision#BF16} mode the stored
 * values are already bf16-rounded. All KV memory belongs to one shared arena owned by this object and freed by
 * {@link #close()}.
 *
 * <p><b>Batching.</b> All tokens of a call go through each matrix as one matrix-matrix product; tokens routed to the
 * same expert are gathered into one product, across sequences. Each chunk is first split at attention-chunk
 * boundaries and the pieces are run in rounds (piece r of every sequence together), so the K/V of a new attention
 * chunk is written only after every query of the previous chunk has read its keys; a chunked-group block can therefore
 * be recycled for the next attention chunk, even within one call.
 *
 * <p><b>Attention work.</b> Queries are cut into tiles of 32 tokens per kv head, each tile reading its kv head's keys
 * once for the whole query group. Prefill tiles compute S = Q·Kᵀ and O = P·V as two {@link Matrix} products over the
 * gathered keys (off-heap scratch owned by this object); small tiles (decoding) use direct loops over the paged cache,
 * spread over the compute pool ({@link CpuThreadPool#shared()}), which also runs the element-wise work (norms, RoPE,
 * activations) over tokens and the products inside {@link Matrix#matmul}. One pool for all of it: a second one of
 * its own put a thread beside the compute worker that was still spinning after the last matmul, on a 2-core machine.
 *
 * <p><b>BF16 attention.</b> Scores, softmax and sums are fp32; the unnormalised probabilities are rounded to bf16 before
 * the P·V product and the output is divided by the fp32 sum and rounded, which is what PyTorch's SDPA does on the CPU
 * (torch 2.13: with this rule the tiny fixtures' bf16 logits match HF's bf16 SDPA run bit for bit within one attention
 * chunk; rounding only the output, as SPEC §5.8 describes, matched about a quarter of them).
 *
 * <p>Not thread-safe: one caller at a time (the model runner's thread).
 */
public final class CpuForwardPass implements ForwardPass {
    private static final ValueLayout.OfFloat KV_FLOAT = ValueLayout.JAVA_FLOAT;

    private final Llama4Config config;
    private final Llama4Weights weights;
    private final Precision precision;
    private final KvBlockCounts kvConfig;
    private final KvCacheSpec kvSpec;
    private final int nThreads;
    private final Arena arena;
    /** Per layer: K and V segments of that layer's group. */
    private final MemorySegment[] kCache, vCache;
    private final float[] inverseFrequencies;
    private final long blockFloats;

    /** A forward pass using every available processor. */
    public CpuForwardPass(Llama4Weights weights, KvBlockCounts kvConfig, Precision precision) {
        this(weights, kvConfig, precision, Runtime.getRuntime().availableProcessors());
    }

    /**
     * @param weights   the model (its config is {@code weights.config()})
     * @param kvConfig  block size and block counts of the KV memory to allocate
     * @param precision F32 (reference) or BF16 (SPEC §9 rounding points)
     * @param nThreads  1: attention and element-wise work on the caller only; more: on the shared compute pool,
     *                  with decode attention split for this many threads
     */
    public CpuForwardPass(Llama4Weights weights, KvBlockCounts kvConfig, Precision precision, int nThreads) {
        if (nThreads < 1) throw new IllegalArgumentException("nThreads must be >= 1, got " + nThreads);
        this.config = weights.config();
        this.weights = weights;
        this.precision = precision;
        this.kvConfig = kvConfig;
        this.nThreads = nThreads;
        this.blockFloats = (long) kvConfig.blockSize() * config.kvDim();
        long globalBlockBytes = (long) config.nNopeLayers() * 2 * blockFloats * Float.BYTES;
        long chunkedBlockBytes = (long) config.nRopeLayers() * 2 * blockFloats * Float.BYTES;
        this.kvSpec = new KvCacheSpec(kvConfig.blockSize(), kvConfig.nGlobalBlocks(), kvConfig.nChunkedBlocks(),
                globalBlockBytes, chunkedBlockBytes);
        this.inverseFrequencies = RopeFrequencies.inverseFrequencies(config.headDim(), config.ropeTheta(), config.ropeScaling());
        this.arena = Arena.ofShared();
        try {
            kCache = new MemorySegment[config.nLayers()];
            vCache = new MemorySegment[config.nLayers()];
            for (int i = 0; i < config.nLayers(); i++) {
                int nBlocks = config.isRopeLayer(i) ? kvConfig.nChunkedBlocks() : kvConfig.nGlobalBlocks();
                long bytes = Math.max(1, nBlocks * blockFloats * Float.BYTES);
                kCache[i] = arena.allocate(bytes, 64);
                vCache[i] = arena.allocate(bytes, 64);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    @Override public Llama4Config config() { return config; }

    @Override public KvCacheSpec kvSpec() { return kvSpec; }

    public Precision precision() { return precision; }

    public KvBlockCounts kvCacheConfig() { return kvConfig; }

    public Llama4Weights weights() { return weights; }

    // ------------------------------------------------------------------------------------------------ batching

    /** Part of one sequence chunk that lies within one attention chunk. */
    private record Piece(int[] tokens, int startPos, BlockTable table, float[] logitsOut, int firstLogitToken,
                         int logitsRowOffset, InputEmbeddings embeddings) {
        int length() { return tokens.length; }
    }

    @Override
    public List<float[]> forward(List<SequenceChunk> chunks) {
        int chunkSize = config.attentionChunkSize();
        List<float[]> results = new ArrayList<>(chunks.size());
        List<List<Piece>> piecesPerChunk = new ArrayList<>();
        int nRounds = 0;
        for (int c = 0; c < chunks.size(); c++) {
            SequenceChunk chunk = chunks.get(c);
            validate(chunk, c);
            int n = chunk.tokens().length;
            float[] out = new float[chunk.nLogits() * config.vocabSize()];
            results.add(out);
            int firstLogit = n - chunk.nLogits();
            List<Piece> pieces = new ArrayList<>();
            int offset = 0;
            while (offset < n) {
                int pos = chunk.startPos() + offset;
                int end = Math.min(n, offset + (chunkSize - pos % chunkSize));
                int[] toks = java.util.Arrays.copyOfRange(chunk.tokens(), offset, end);
                // Logit rows of this piece: tokens at chunk index >= firstLogit.
                int pieceFirst = Math.max(0, firstLogit - offset);
                int rowOffset = Math.max(0, offset - firstLogit);
                InputEmbeddings rows = chunk.embeddings() == null ? null
                        : chunk.embeddings().slice(offset, end, config.dModel());
                pieces.add(new Piece(toks, pos, chunk.blocks(), out, pieceFirst, rowOffset, rows));
                offset = end;
            }
            piecesPerChunk.add(pieces);
            nRounds = Math.max(nRounds, pieces.size());
        }
        for (int r = 0; r < nRounds; r++) {
            List<Piece> batch = new ArrayList<>();
            for (List<Piece> pieces : piecesPerChunk) if (r < pieces.size()) batch.add(pieces.get(r));
            runBatch(batch);
        }
        return results;
    }

    private void validate(SequenceChunk chunk, int index) {
        if (chunk.startPos() < 0) throw new IllegalArgumentException("chunk " + index + ": negative startPos " + chunk.startPos());
        for (int t : chunk.tokens())
            if (t < 0 || t >= config.vocabSize())
                throw new IllegalArgumentException("chunk " + index + ": token id " + t + " outside vocabulary of " + config.vocabSize());
        if (chunk.blocks() == null) throw new IllegalArgumentException("chunk " + index + ": no block table");
        if (chunk.embeddings() != null && chunk.embeddings().rows().length != chunk.embeddings().indices().length * config.dModel())
            throw new IllegalArgumentException("chunk " + index + ": embedding rows are not [" + chunk.embeddings().indices().length
                    + ", " + config.dModel() + "]");
        if ((long) chunk.nLogits() * config.vocabSize() > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException("chunk " + index + ": " + chunk.nLogits() + " rows of " + config.vocabSize()
                    + " logits do not fit one array; ask for fewer");
    }

    /** Runs pieces (each within one attention chunk, of distinct sequences) through the whole model. */
    private void runBatch(List<Piece> batch) {
        int nTokens = 0;
        for (Piece p : batch) nTokens += p.length();
        if (nTokens == 0) return;
        int d = config.dModel();
        // Activations are Java arrays [nTokens, width]: the widest must stay indexable by int.
        long widest = Math.max(Math.max(d, config.qDim()), Math.max(2L * config.dFf(), config.dFfMlp()));
        if (nTokens * widest > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException(nTokens + " tokens in one step exceed the activation arrays' limit of "
                    + (Integer.MAX_VALUE - 8) / widest + "; schedule fewer tokens per step");
        int[] tokens = new int[nTokens], positions = new int[nTokens];
        int[] pieceStart = new int[batch.size() + 1];
        for (int b = 0, t = 0; b < batch.size(); b++) {
            Piece p = batch.get(b);
            pieceStart[b] = t;
            for (int i = 0; i < p.length(); i++, t++) {
                tokens[t] = p.tokens()[i];
                positions[t] = p.startPos() + i;
            }
            pieceStart[b + 1] = t;
        }

        float[] h = new float[nTokens * d];
        Matrix embed = weights.embedTokens();
        for (int t = 0; t < nTokens; t++)
            for (int i = 0; i < d; i++) h[t * d + i] = round(embed.get(tokens[t], i));
        // Image features replace the embedding rows of their <|patch|> tokens (the merge of SPEC's multimodal models).
        for (int b = 0; b < batch.size(); b++) {
            InputEmbeddings rows = batch.get(b).embeddings();
            if (rows == null) continue;
            for (int r = 0; r < rows.indices().length; r++)
                for (int i = 0; i < d; i++)
                    h[(pieceStart[b] + rows.indices()[r]) * d + i] = round(rows.rows()[r * d + i]);
        }

        // cos/sin of every (token, frequency) once per batch: shared by all heads and all RoPE layers.
        int half = inverseFrequencies.length;
        float[] cos = new float[nTokens * half], sin = new float[nTokens * half];
        for (int t = 0; t < nTokens; t++)
            for (int j = 0; j < half; j++) {
                float angle = (float) positions[t] * inverseFrequencies[j];   // one fp32 multiply, as the references
                cos[t * half + j] = (float) Math.cos(angle);
                sin[t * half + j] = (float) Math.sin(angle);
            }
        Rotation rotation = new Rotation(cos, sin);

        for (int iLayer = 0; iLayer < config.nLayers(); iLayer++) {
            Llama4Weights.Layer layer = weights.layers().get(iLayer);
            float[] xn = rmsNorm(h, layer.inputNorm(), nTokens);
            float[] attn = attention(iLayer, layer.attention(), xn, nTokens, positions, batch, pieceStart, rotation);
            addInto(h, attn);
            xn = rmsNorm(h, layer.postAttentionNorm(), nTokens);
            float[] ffn = switch (layer.feedForward()) {
                case Llama4Weights.Moe moe -> moe(moe, xn, nTokens);
                case Llama4Weights.Mlp mlp -> swiGlu(mlp, xn, nTokens);
            };
            addInto(h, ffn);
        }

        // Final norm and lm_head only for the rows whose logits were asked for, across all pieces at once (one pass
        // over lm_head per LOGIT_ROWS rows) and LOGIT_ROWS rows at a time so the temporary [rows, vocab] stays bounded.
        int vocab = config.vocabSize();
        int nRows = 0;
        for (Piece p : batch) nRows += Math.max(0, p.length() - p.firstLogitToken());
        int[] rowToken = new int[nRows];        // index into h
        float[][] rowOut = new float[nRows][];  // destination array
        int[] rowOutIndex = new int[nRows];     // row within it
        for (int b = 0, r = 0; b < batch.size(); b++) {
            Piece p = batch.get(b);
            for (int i = p.firstLogitToken(); i < p.length(); i++, r++) {
                rowToken[r] = pieceStart[b] + i;
                rowOut[r] = p.logitsOut();
                rowOutIndex[r] = p.logitsRowOffset() + (i - p.firstLogitToken());
            }
        }
        for (int r0 = 0; r0 < nRows; r0 += LOGIT_ROWS) {
            int n = Math.min(LOGIT_ROWS, nRows - r0);
            float[] rows = new float[n * d];
            for (int r = 0; r < n; r++) System.arraycopy(h, rowToken[r0 + r] * d, rows, r * d, d);
            float[] logits = matmul(weights.lmHead(), rmsNorm(rows, weights.finalNorm(), n), n);
            for (int r = 0; r < n; r++)
                System.arraycopy(logits, r * vocab, rowOut[r0 + r], rowOutIndex[r0 + r] * vocab, vocab);
        }
    }

    /** Rows of logits computed per lm_head product. */
    private static final int LOGIT_ROWS = 64;

    // ------------------------------------------------------------------------------------------------ attention

    /** Per-token RoPE cos/sin tables, {@code [nTokens, headDim/2]}. */
    private record Rotation(float[] cos, float[] sin) {}

    /** Queries per attention task: the keys gathered for a task are shared by this many tokens. */
    private static final int QUERY_TILE = 32;

    /** One attention task: a tile of one piece's queries, one kv head, some of its query heads. */
    private record AttentionTask(int piece, int firstToken, int endToken, int kvHead, int firstHead, int endHead) {}

    /** Scratch arrays of one thread, grown on demand and kept (the pool's threads outlive this object). */
    private static final class Scratch {
        long[] offsets = new long[0];
        float[] scores = new float[0];

        void ensure(int nKeys) {
            if (offsets.length < nKeys) offsets = new long[nKeys];
            if (scores.length < nKeys) scores = new float[nKeys];
        }
    }

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    private float[] attention(int iLayer, Llama4Weights.Attention w, float[] xn, int nTokens, int[] positions,
                              List<Piece> batch, int[] pieceStart, Rotation rotation) {
        int headDim = config.headDim(), nHeads = config.nHeads(), nKvHeads = config.nKvHeads();
        int qDim = config.qDim(), kvDim = config.kvDim();
        float[] q = matmul(w.q(), xn, nTokens);
        float[] k = matmul(w.k(), xn, nTokens);
        float[] v = matmul(w.v(), xn, nTokens);
        boolean rope = config.isRopeLayer(iLayer);
        forTokens(nTokens, t -> {
            if (rope) {
                for (int hh = 0; hh < nHeads; hh++) applyRope(q, t * qDim + hh * headDim, rotation, t);
                for (int hh = 0; hh < nKvHeads; hh++) applyRope(k, t * kvDim + hh * headDim, rotation, t);
                if (config.useQkNorm()) {
                    for (int hh = 0; hh < nHeads; hh++) headNorm(q, t * qDim + hh * headDim);
                    for (int hh = 0; hh < nKvHeads; hh++) headNorm(k, t * kvDim + hh * headDim);
                }
            } else if (config.attnTemperatureTuning()) {
                float s = RopeFrequencies.temperatureScale(positions[t], config.floorScale(), config.attnScale());
                for (int i = t * qDim; i < (t + 1) * qDim; i++) q[i] = round(q[i] * s);
            }
        });

        // Append K/V of every token to its sequence's blocks.
        MemorySegment kSeg = kCache[iLayer], vSeg = vCache[iLayer];
        for (int b = 0; b < batch.size(); b++) {
            Piece piece = batch.get(b);
            for (int t = pieceStart[b]; t < pieceStart[b + 1]; t++) {
                long base = slotBase(piece.table(), rope, positions[t], iLayer);
                MemorySegment.copy(k, t * kvDim, kSeg, KV_FLOAT, base * Float.BYTES, kvDim);
                MemorySegment.copy(v, t * kvDim, vSeg, KV_FLOAT, base * Float.BYTES, kvDim);
            }
        }

        // Tasks: (piece, query tile, kv head), each reading that kv head's keys once for its whole query group. When
        // that gives fewer tasks than threads (decoding few sequences), query heads are split over tasks instead.
        int groupSize = config.groupSize();
        int nGroupTasks = 0;
        for (Piece p : batch) nGroupTasks += Math.ceilDiv(p.length(), QUERY_TILE) * nKvHeads;
        int headsPerTask = nGroupTasks >= nThreads ? groupSize : 1;
        List<AttentionTask> tasks = new ArrayList<>(), gemmTasks = new ArrayList<>();
        for (int b = 0; b < batch.size(); b++)
            for (int t0 = pieceStart[b]; t0 < pieceStart[b + 1]; t0 += QUERY_TILE) {
                int t1 = Math.min(pieceStart[b + 1], t0 + QUERY_TILE);
                for (int g = 0; g < nKvHeads; g++) {
                    if ((t1 - t0) * groupSize >= GEMM_MIN_ROWS) {
                        gemmTasks.add(new AttentionTask(b, t0, t1, g, g * groupSize, (g + 1) * groupSize));
                        continue;
                    }
                    for (int h0 = g * groupSize; h0 < (g + 1) * groupSize; h0 += headsPerTask)
                        tasks.add(new AttentionTask(b, t0, t1, g, h0, Math.min((g + 1) * groupSize, h0 + headsPerTask)));
                }
            }

        float[] out = new float[nTokens * qDim];
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int chunk = config.attentionChunkSize();
        // Prefill tiles: two matrix products per tile on the compute pool, one tile after another.
        for (AttentionTask task : gemmTasks)
            attentionByMatmul(task, batch.get(task.piece()), iLayer, rope, q, positions, out, scale);
        // Few queries (decoding): direct loops, tiles spread over the compute pool.
        parallelFor(tasks.size(), i -> {
            AttentionTask task = tasks.get(i);
            Piece piece = batch.get(task.piece());
            int firstKeyPos = rope ? piece.startPos() / chunk * chunk : 0;
            int lastKeyPos = positions[task.endToken() - 1];
            int nKeys = lastKeyPos - firstKeyPos + 1;
            Scratch sc = scratch.get();
            sc.ensure(nKeys);
            long[] offsets = sc.offsets;
            float[] scores = sc.scores;
            // Keys and values are read in place from the paged cache (same layout for both): the byte offset of
            // this kv head's slice at each position, once for all the task's queries. Gathering them into
            // transposed scratch arrays first cost more than the products (a scalar scatter per element).
            for (int j = 0; j < nKeys; j++)
                offsets[j] = (slotBase(piece.table(), rope, firstKeyPos + j, iLayer) + (long) task.kvHead() * headDim) * Float.BYTES;
            for (int t = task.firstToken(); t < task.endToken(); t++) {
                int n = positions[t] - firstKeyPos + 1;   // causal: keys up to the query's own position
                for (int head = task.firstHead(); head < task.endHead(); head++) {
                    int qOff = t * qDim + head * headDim;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        float s = FloatOps.dot(q, qOff, kSeg, offsets[j], headDim) * scale;
                        scores[j] = s;
                        if (s > max) max = s;
                    }
                    float sum = 0f;
                    for (int j = 0; j < n; j++) {
                        float e = (float) Math.exp(scores[j] - max);
                        scores[j] = e;
                        sum += e;
                    }
                    if (precision == Precision.BF16) {
                        // As PyTorch's SDPA kernels: the unnormalised probabilities are rounded to bf16 for the
                        // P·V product (fp32 accumulation), then divided by the fp32 sum of the unrounded ones.
                        for (int j = 0; j < n; j++) scores[j] = Bf16.round(scores[j]);
                        FloatOps.weightedSum(vSeg, offsets, scores, n, out, qOff, headDim);
                        for (int c = 0; c < headDim; c++) out[qOff + c] = Bf16.round(out[qOff + c] / sum);
                    } else {
                        float inv = 1f / sum;
                        for (int j = 0; j < n; j++) scores[j] *= inv;
                        FloatOps.weightedSum(vSeg, offsets, scores, n, out, qOff, headDim);
                    }
                }
            }
        });
        return matmul(w.o(), out, nTokens);
    }

    /** Query rows (tile tokens × heads of the group) from which the matrix-product path pays off. */
    private static final int GEMM_MIN_ROWS = 16;

    /** Off-heap K and V of the tile being computed by {@link #attentionByMatmul}; caller thread only. */
    private Arena gemmArena;
    private MemorySegment gemmKeys, gemmValues;

    /**
     * Attention of one tile of queries (all heads of one kv head group) as S = Q·Kᵀ and O = P·V matrix products over
     * the gathered keys, with the same masking, softmax and rounding as the direct loops.
     */
    private void attentionByMatmul(AttentionTask task, Piece piece, int iLayer, boolean rope, float[] q, int[] positions,
                                   float[] out, float scale) {
        int headDim = config.headDim(), qDim = config.qDim();
        MemorySegment kSeg = kCache[iLayer], vSeg = vCache[iLayer];
        int firstKeyPos = rope ? piece.startPos() / config.attentionChunkSize() * config.attentionChunkSize() : 0;
        int nKeys = positions[task.endToken() - 1] - firstKeyPos + 1;
        long rowBytes = (long) headDim * Float.BYTES;
        if (gemmKeys == null || gemmKeys.byteSize() < nKeys * rowBytes) {
            if (gemmArena != null) gemmArena.close();
            gemmArena = Arena.ofShared();   // shared: the compute pool's threads read it during the products
            long bytes = Math.max(nKeys, 1024) * rowBytes;
            gemmKeys = gemmArena.allocate(bytes, 64);
            gemmValues = gemmArena.allocate(bytes, 64);
        }
        for (int j = 0; j < nKeys; j++) {
            long from = (slotBase(piece.table(), rope, firstKeyPos + j, iLayer) + (long) task.kvHead() * headDim) * Float.BYTES;
            MemorySegment.copy(kSeg, from, gemmKeys, j * rowBytes, rowBytes);
            MemorySegment.copy(vSeg, from, gemmValues, j * rowBytes, rowBytes);
        }
        int nHeads = task.endHead() - task.firstHead();
        int nRows = (task.endToken() - task.firstToken()) * nHeads;   // row r = (token r / nHeads, head r % nHeads)
        float[] queries = new float[nRows * headDim];
        for (int r = 0; r < nRows; r++)
            System.arraycopy(q, (task.firstToken() + r / nHeads) * qDim + (task.firstHead() + r % nHeads) * headDim,
                    queries, r * headDim, headDim);
        float[] scores = new float[nRows * nKeys];
        Matrices.rowMajor(gemmKeys, DType.F32, nKeys, headDim).matmul(queries, scores, nRows);
        float[] sums = new float[nRows];
        for (int r = 0; r < nRows; r++) {
            int off = r * nKeys;
            int n = positions[task.firstToken() + r / nHeads] - firstKeyPos + 1;   // causal
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                scores[off + j] *= scale;
                if (scores[off + j] > max) max = scores[off + j];
            }
            float sum = 0f;
            for (int j = 0; j < n; j++) {
                float e = (float) Math.exp(scores[off + j] - max);
                scores[off + j] = e;
                sum += e;
            }
            java.util.Arrays.fill(scores, off + n, off + nKeys, 0f);
            if (precision == Precision.BF16) {
                Bf16.round(scores, off, n);   // as in the direct loops: bf16 probabilities, fp32 sum
                sums[r] = sum;
            } else {
                float inv = 1f / sum;
                for (int j = 0; j < n; j++) scores[off + j] *= inv;
            }
        }
        float[] heads = new float[nRows * headDim];
        Matrices.inputMajor(gemmValues, DType.F32, nKeys, headDim).matmul(scores, heads, nRows);
        for (int r = 0; r < nRows; r++) {
            int o = (task.firstToken() + r / nHeads) * qDim + (task.firstHead() + r % nHeads) * headDim;
            if (precision == Precision.BF16) {
                for (int c = 0; c < headDim; c++) out[o + c] = Bf16.round(heads[r * headDim + c] / sums[r]);
            } else {
                System.arraycopy(heads, r * headDim, out, o, headDim);
            }
        }
    }

    /** Float index of the K/V row of position {@code pos} in the layer's cache segment. */
    private long slotBase(BlockTable table, boolean rope, int pos, int iLayer) {
        int[] ids = rope ? table.chunked() : table.global();
        int logical = pos / kvConfig.blockSize();
        int nBlocks = rope ? kvConfig.nChunkedBlocks() : kvConfig.nGlobalBlocks();
        if (ids == null || logical >= ids.length)
            throw new IllegalStateException("block table (" + (rope ? "chunked" : "global") + ") has no entry for position "
                    + pos + " (logical block " + logical + ", table length " + (ids == null ? 0 : ids.length) + ")");
        int block = ids[logical];
        if (block < 0 || block >= nBlocks)
            throw new IllegalStateException("layer " + iLayer + ": position " + pos + " maps to " + (rope ? "chunked" : "global")
                    + " block " + block + " (valid 0.." + (nBlocks - 1) + ")");
        return ((long) block * kvConfig.blockSize() + pos % kvConfig.blockSize()) * config.kvDim();
    }

    /** Interleaved (adjacent-pair) rotation of one head of token t, fp32, rounded in BF16 mode. */
    private void applyRope(float[] x, int off, Rotation rotation, int t) {
        int half = inverseFrequencies.length;
        for (int j = 0; j < half; j++) {
            float cos = rotation.cos()[t * half + j], sin = rotation.sin()[t * half + j];
            float x0 = x[off + 2 * j], x1 = x[off + 2 * j + 1];
            x[off + 2 * j] = round(x0 * cos - x1 * sin);
            x[off + 2 * j + 1] = round(x0 * sin + x1 * cos);
        }
    }

    /** qk-norm: RMSNorm without gain over one head (SPEC §5.5). */
    private void headNorm(float[] x, int off) {
        int n = config.headDim();
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[off + i] * x[off + i];
        float r = (float) (1.0 / Math.sqrt((float) (ss / n) + config.rmsNormEps()));
        for (int i = 0; i < n; i++) x[off + i] = round(x[off + i] * r);
    }

    // ------------------------------------------------------------------------------------------------ FFN

    /** MoE block (SPEC §6.2): sigmoid-scored top-k experts applied to the scaled input, plus the shared expert. */
    private float[] moe(Llama4Weights.Moe w, float[] xn, int nTokens) {
        int d = config.dModel(), nExperts = config.nExperts(), topK = config.nExpertsPerTok(), f = config.dFf();
        float[] routerLogits = matmul(w.router(), xn, nTokens);
        // Per expert: the tokens routed to it and their scores, in token order.
        int[][] expertTokens = new int[nExperts][nTokens];
        float[][] expertScores = new float[nExperts][nTokens];
        int[] expertCount = new int[nExperts];
        boolean[] taken = new boolean[nExperts];
        for (int t = 0; t < nTokens; t++) {
            java.util.Arrays.fill(taken, false);
            for (int k = 0; k < topK; k++) {
                int best = -1;
                float bestLogit = Float.NEGATIVE_INFINITY;
                for (int e = 0; e < nExperts; e++) {
                    float l = routerLogits[t * nExperts + e];
                    // Strictly greater: on equal logits the lowest expert index wins (SPEC §6.2, documented choice).
                    if (!taken[e] && (best < 0 || l > bestLogit)) { best = e; bestLogit = l; }
                }
                taken[best] = true;
                float score = round((float) (1.0 / (1.0 + Math.exp(-(double) bestLogit))));
                expertTokens[best][expertCount[best]] = t;
                expertScores[best][expertCount[best]] = score;
                expertCount[best]++;
            }
        }
        float[] routed = new float[nTokens * d];
        for (int e = 0; e < nExperts; e++) {
            int n = expertCount[e];
            if (n == 0) continue;
            float[] xe = new float[n * d];
            for (int r = 0; r < n; r++) {
                int t = expertTokens[e][r];
                float s = expertScores[e][r];
                for (int i = 0; i < d; i++) xe[r * d + i] = round(xn[t * d + i] * s);
            }
            float[] gateUp = matmul(w.expertGateUp().get(e), xe, n);
            float[] act = new float[n * f];
            forTokens(n, r -> {
                for (int i = 0; i < f; i++)
                    act[r * f + i] = round(gateUp[r * 2 * f + f + i] * round(silu(gateUp[r * 2 * f + i])));
            });
            float[] ye = matmul(w.expertDown().get(e), act, n);
            for (int r = 0; r < n; r++) {
                int t = expertTokens[e][r];
                for (int i = 0; i < d; i++) routed[t * d + i] += ye[r * d + i];
            }
        }
        float[] out = swiGlu(w.sharedExpert(), xn, nTokens);
        if (precision == Precision.BF16) Bf16.round(routed, 0, routed.length);
        for (int i = 0; i < out.length; i++) out[i] += routed[i];
        if (precision == Precision.BF16) Bf16.round(out, 0, out.length);
        return out;
    }

    /** SwiGLU: down( silu(gate(x)) · up(x) ), SPEC §6.1. */
    private float[] swiGlu(Llama4Weights.Mlp w, float[] xn, int nTokens) {
        float[] g = matmul(w.gate(), xn, nTokens);
        float[] u = matmul(w.up(), xn, nTokens);
        int width = w.gate().nOut();
        forTokens(nTokens, t -> {
            for (int i = t * width; i < (t + 1) * width; i++) g[i] = round(round(silu(g[i])) * u[i]);
        });
        return matmul(w.down(), g, nTokens);
    }

    private static float silu(float z) {
        return z / (1f + (float) Math.exp(-z));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** y = x · Wᵀ for nTokens rows; rounded to bf16 in BF16 mode (one rounding after fp32 accumulation). */
    private float[] matmul(Matrix w, float[] x, int nTokens) {
        float[] y = new float[nTokens * w.nOut()];
        w.matmul(x, y, nTokens);
        if (precision == Precision.BF16) Bf16.round(y, 0, y.length);
        return y;
    }

    /** RMSNorm with gain (SPEC §4): fp32 mean square; normalised value rounded before the gain in BF16 mode. */
    private float[] rmsNorm(float[] x, float[] gain, int nTokens) {
        int d = gain.length;
        float[] y = new float[nTokens * d];
        forTokens(nTokens, t -> {
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double) x[t * d + i] * x[t * d + i];
            float r = (float) (1.0 / Math.sqrt((float) (ss / d) + config.rmsNormEps()));
            for (int i = 0; i < d; i++) y[t * d + i] = round(round(x[t * d + i] * r) * gain[i]);
        });
        return y;
    }

    /** Residual add, rounded in BF16 mode. */
    private void addInto(float[] h, float[] delta) {
        for (int i = 0; i < h.length; i++) h[i] += delta[i];
        if (precision == Precision.BF16) Bf16.round(h, 0, h.length);
    }

    private float round(float f) {
        return precision == Precision.BF16 ? Bf16.round(f) : f;
    }

    /**
     * Runs body(0 … n-1) on the pool and the calling thread; tasks are claimed one at a time, so uneven tasks (causal
     * attention tiles) balance out.
     */
    private void parallelFor(int n, IntConsumer body) {
        if (n <= 0) return;
        if (nThreads == 1 || n == 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        CpuThreadPool.shared().parallelFor(n, body);
    }

    /** Tokens per element-wise task (norms, activations): enough work to be worth a hand-off. */
    private static final int TOKENS_PER_TASK = 4;

    /** Runs body(t) for every token, in parallel when there are several. */
    private void forTokens(int nTokens, IntConsumer body) {
        if (nTokens <= TOKENS_PER_TASK) {
            for (int t = 0; t < nTokens; t++) body.accept(t);
            return;
        }
        parallelFor(Math.ceilDiv(nTokens, TOKENS_PER_TASK), task -> {
            for (int t = task * TOKENS_PER_TASK, end = Math.min(nTokens, t + TOKENS_PER_TASK); t < end; t++) body.accept(t);
        });
    }

    @Override
    public void copyBlock(KvGroup group, int fromBlock, int toBlock) {
        int nBlocks = group == KvGroup.CHUNKED ? kvConfig.nChunkedBlocks() : kvConfig.nGlobalBlocks();
        if (fromBlock < 0 || fromBlock >= nBlocks || toBlock < 0 || toBlock >= nBlocks)
            throw new IllegalArgumentException("copyBlock " + group + " " + fromBlock + " -> " + toBlock + " (valid 0.." + (nBlocks - 1) + ")");
        long bytes = blockFloats * Float.BYTES;
        for (int i = 0; i < config.nLayers(); i++) {
            if (config.isRopeLayer(i) != (group == KvGroup.CHUNKED)) continue;
            MemorySegment.copy(kCache[i], fromBlock * bytes, kCache[i], toBlock * bytes, bytes);
            MemorySegment.copy(vCache[i], fromBlock * bytes, vCache[i], toBlock * bytes, bytes);
        }
    }

    /** Frees the KV memory and the prefill attention scratch. */
    @Override
    public void close() {
        if (gemmArena != null) gemmArena.close();
        arena.close();
    }
}
