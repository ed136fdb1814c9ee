package io.herd.compute.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Picks the decode attention kernel on the device at hand: every candidate runs on the same random paged KV cache
 * and queries (four sequences of 6 to 2048 positions, global and chunked attention) and is compared with the
 * warp-per-head kernel; of those that match within tolerance the fastest on one sequence of 2048 positions wins.
 * A second choice is made for large decode batches ({@link CudaOps#MANY_DECODE_TOKENS} tokens and more): the
 * fastest passing kernel on {@value #MANY_TOKENS} tokens that all sit at the same position, timed at 512 and at
 * 2048 keys and summed; those launches are also checked against the warp-per-head kernel.
 * A kernel that computes wrong results (or NaN) is never chosen, so a faulty fast kernel costs speed, not logits.
 */
public final class DecodeAttentionCheck {
    /** Largest |candidate − reference| allowed, relative to max(1, max |reference|). */
    public static final double TOLERANCE = 1e-4;
    private static final int CHECK_SEQS = 4;
    private static final int BLOCK_SIZE = 16;
    private static final int[] POSITIONS = {5, 130, 700, 2047};
    private static final int TIMED_LAUNCHES = 20;
    /** Tokens of the large-batch timing. */
    public static final int MANY_TOKENS = 64;
    /** Positions of every token in the large-batch timings (512 and 2048 keys): one realistic, one long context. */
    static final int[] MANY_CONTEXTS = {511, 2047};

    /**
     * One kernel's outcome: error against the reference (NaN when not run), pass, and µs per launch for one token
     * and for {@value #MANY_TOKENS} tokens.
     */
    public record Candidate(double maxAbsError, boolean pass, double microsPerLaunch, double microsPerLaunchMany) {}

    /** The chosen kernels (few tokens, many tokens) and what each candidate did. */
    public record Result(DecodeAttentionKernel chosen, DecodeAttentionKernel chosenMany,
                         Map<DecodeAttentionKernel, Candidate> candidates) {
        /** Only the verified kernel, for every batch (no check ran). */
        public static Result verifiedOnly() {
            return new Result(DecodeAttentionKernel.WARP_PER_HEAD, DecodeAttentionKernel.WARP_PER_HEAD, Map.of());
        }

        public String summary() {
            StringBuilder b = new StringBuilder("decode attention: ").append(chosen).append(", from ")
                    .append(CudaOps.MANY_DECODE_TOKENS).append(" tokens ").append(chosenMany);
            candidates.forEach((k, c) -> b.append(String.format(" | %s err %.2e %s %.1f us, %d tokens %.1f us", k,
                    c.maxAbsError(), c.pass() ? "ok" : "REJECTED", c.microsPerLaunch(), MANY_TOKENS,
                    c.microsPerLaunchMany())));
            return b.toString();
        }
    }

    private DecodeAttentionCheck() {}

    /** Sequences the check runs at once: callers reserve split scratch for this many times nHeads. */
    public static int checkSequences() {
        return CHECK_SEQS;
    }

    /**
     * Runs the check for heads of the given shape and KV dtype and returns the choice (it does not apply it).
     * Needs {@code ops.reserveAttentionSplits(CHECK_SEQS * nHeads)} done beforehand by the caller when the caller
     * frees allocations by mark; the check frees everything it allocates.
     */
    public static Result select(CudaOps ops, int nHeads, int nKv, int headDim, boolean kvBf16) {
        Map<DecodeAttentionKernel, Candidate> out = new EnumMap<>(DecodeAttentionKernel.class);
        List<DecodeAttentionKernel> candidates = new ArrayList<>();
        for (DecodeAttentionKernel k : DecodeAttentionKernel.values()) {
            if (k != DecodeAttentionKernel.WARP_PER_HEAD && k.supports(headDim, nHeads, nKv)) candidates.add(k);
        }
        if (candidates.isEmpty()) return Result.verifiedOnly();
        CudaDevice device = ops.device();
        ops.reserveAttentionSplits((long) MANY_TOKENS * nHeads);
        long mark = device.allocationMark();
        try {
            int maxBlocks = (POSITIONS[POSITIONS.length - 1] + BLOCK_SIZE) / BLOCK_SIZE;
            int nBlocks = CHECK_SEQS * maxBlocks;
            long kvElems = (long) nBlocks * BLOCK_SIZE * nKv * headDim;
            int kvBytes = kvBf16 ? 2 : 4;
            long kc = device.alloc(kvElems * kvBytes), vc = device.alloc(kvElems * kvBytes);
            if (kvBf16) {
                ops.fillRandomBf16(kc, kvElems, 71, 1f);
                ops.fillRandomBf16(vc, kvElems, 72, 1f);
            } else {
                ops.fillRandomF32(kc, kvElems, 71, 1f);
                ops.fillRandomF32(vc, kvElems, 72, 1f);
            }
            int ld = (nHeads + 2 * nKv) * headDim;
            long qkv = device.alloc((long) MANY_TOKENS * ld * 4);
            ops.fillRandomF32(qkv, (long) MANY_TOKENS * ld, 73, 3f);
            // each sequence its own shuffled blocks, so the kernels must follow the block table
            List<Integer> ids = new ArrayList<>();
            for (int b = 0; b < nBlocks; b++) ids.add(b);
            Collections.shuffle(ids, new Random(74));
            int[] tables = new int[CHECK_SEQS * maxBlocks];
            for (int i = 0; i < tables.length; i++) tables[i] = ids.get(i);
            int[] seqs = new int[CHECK_SEQS];
            for (int s = 0; s < CHECK_SEQS; s++) seqs[s] = s;
            long tablesD = device.alloc(tables.length * 4L), posD = device.alloc(CHECK_SEQS * 4L),
                    seqD = device.alloc(CHECK_SEQS * 4L);
            device.uploadInts(tables, tablesD);
            device.uploadInts(POSITIONS, posD);
            device.uploadInts(seqs, seqD);
            CudaOps.KvAddressing kv = new CudaOps.KvAddressing(posD, seqD, tablesD, maxBlocks, BLOCK_SIZE);
            int nOut = CHECK_SEQS * nHeads * headDim;
            long refD = device.alloc(nOut * 4L), gotD = device.alloc(nOut * 4L);
            float scale = (float) (1 / Math.sqrt(headDim));
            float[] ref = new float[nOut], got = new float[nOut];
            Map<DecodeAttentionKernel, Double> errors = new EnumMap<>(DecodeAttentionKernel.class);
            for (int chunk : new int[] {0, 256}) {
                ops.attentionDecode(DecodeAttentionKernel.WARP_PER_HEAD, qkv, refD, kc, vc, kvBf16, kv, CHECK_SEQS,
                        nHeads, nKv, headDim, chunk, scale);
                device.downloadFloats(refD, ref, 0, nOut);
                double maxRef = 0;
                for (float r : ref) maxRef = Math.max(maxRef, Math.abs(r));
                for (DecodeAttentionKernel k : candidates) {
                    device.zero(gotD, nOut * 4L);
                    ops.attentionDecode(k, qkv, gotD, kc, vc, kvBf16, kv, CHECK_SEQS, nHeads, nKv, headDim, chunk,
                            scale);
                    device.downloadFloats(gotD, got, 0, nOut);
                    double err = 0;
                    for (int i = 0; i < nOut; i++) {
                        double e = Math.abs((double) got[i] - ref[i]);
                        err = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(err, e);
                    }
                    errors.merge(k, err / Math.max(1, maxRef), Math::max);
                }
            }
            // timing: the longest sequence alone (batch 1), every kernel on the same input
            int last = CHECK_SEQS - 1;
            CudaOps.KvAddressing one = new CudaOps.KvAddressing(posD + 4L * last, seqD + 4L * last, tablesD,
                    maxBlocks, BLOCK_SIZE);
            long q1 = qkv + 4L * last * ld;
            // many tokens: MANY_TOKENS queries, token i of sequence i % CHECK_SEQS, all at the same position (a
            // decode batch of equal contexts: unequal ones let the longest few sequences decide, which favoured
            // kernels that are slower on real batches); once at MANY_CONTEXTS[j] + 1 keys each, timings summed.
            // Attention only reads the cache, so tokens may share a sequence.
            int[] seqMany = new int[MANY_TOKENS];
            for (int i = 0; i < MANY_TOKENS; i++) seqMany[i] = i % CHECK_SEQS;
            long seqManyD = device.alloc(MANY_TOKENS * 4L);
            device.uploadInts(seqMany, seqManyD);
            List<CudaOps.KvAddressing> many = new ArrayList<>();
            for (int position : MANY_CONTEXTS) {
                int[] posMany = new int[MANY_TOKENS];
                java.util.Arrays.fill(posMany, position);
                long posManyD = device.alloc(MANY_TOKENS * 4L);
                device.uploadInts(posMany, posManyD);
                many.add(new CudaOps.KvAddressing(posManyD, seqManyD, tablesD, maxBlocks, BLOCK_SIZE));
            }
            int nOutMany = MANY_TOKENS * nHeads * headDim;
            long outMany = device.alloc(nOutMany * 4L), refMany = device.alloc(nOutMany * 4L);
            // the many-token launches are checked too: their split counts differ from the four-sequence check's
            float[] refM = new float[nOutMany], gotM = new float[nOutMany];
            for (CudaOps.KvAddressing kvMany : many) {
                ops.attentionDecode(DecodeAttentionKernel.WARP_PER_HEAD, qkv, refMany, kc, vc, kvBf16, kvMany,
                        MANY_TOKENS, nHeads, nKv, headDim, 0, scale);
                device.downloadFloats(refMany, refM, 0, nOutMany);
                double maxRef = 0;
                for (float r : refM) maxRef = Math.max(maxRef, Math.abs(r));
                for (DecodeAttentionKernel k : candidates) {
                    device.zero(outMany, nOutMany * 4L);
                    ops.attentionDecode(k, qkv, outMany, kc, vc, kvBf16, kvMany, MANY_TOKENS, nHeads, nKv, headDim,
                            0, scale);
                    device.downloadFloats(outMany, gotM, 0, nOutMany);
                    double err = 0;
                    for (int i = 0; i < nOutMany; i++) {
                        double e = Math.abs((double) gotM[i] - refM[i]);
                        err = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(err, e);
                    }
                    errors.merge(k, err / Math.max(1, maxRef), Math::max);
                }
            }
            DecodeAttentionKernel best = DecodeAttentionKernel.WARP_PER_HEAD, bestMany = best;
            double bestUs = timeMicros(ops, DecodeAttentionKernel.WARP_PER_HEAD, q1, gotD, kc, vc, kvBf16, one, 1,
                    nHeads, nKv, headDim, scale);
            double bestManyUs = timeManyMicros(ops, DecodeAttentionKernel.WARP_PER_HEAD, qkv, outMany, kc, vc, kvBf16,
                    many, nHeads, nKv, headDim, scale);
            out.put(DecodeAttentionKernel.WARP_PER_HEAD, new Candidate(0, true, bestUs, bestManyUs));
            for (DecodeAttentionKernel k : candidates) {
                double err = errors.get(k);
                boolean pass = err <= TOLERANCE;
                double us = pass ? timeMicros(ops, k, q1, gotD, kc, vc, kvBf16, one, 1, nHeads, nKv, headDim, scale)
                        : Double.NaN;
                double usMany = pass ? timeManyMicros(ops, k, qkv, outMany, kc, vc, kvBf16, many, nHeads, nKv,
                        headDim, scale) : Double.NaN;
                out.put(k, new Candidate(err, pass, us, usMany));
                if (pass && us < bestUs) {
                    best = k;
                    bestUs = us;
                }
                if (pass && usMany < bestManyUs) {
                    bestMany = k;
                    bestManyUs = usMany;
                }
            }
            return new Result(best, bestMany, out);
        } finally {
            device.synchronize();
            device.freeSince(mark);
        }
    }

    /** Sum over the equal-context many-token inputs of µs per launch. */
    private static double timeManyMicros(CudaOps ops, DecodeAttentionKernel k, long qkv, long out, long kc, long vc,
                                         boolean kvBf16, List<CudaOps.KvAddressing> many, int nHeads, int nKv,
                                         int headDim, float scale) {
        double sum = 0;
        for (CudaOps.KvAddressing kv : many) {
            sum += timeMicros(ops, k, qkv, out, kc, vc, kvBf16, kv, MANY_TOKENS, nHeads, nKv, headDim, scale);
        }
        return sum;
    }

    private static double timeMicros(CudaOps ops, DecodeAttentionKernel k, long qkv, long out, long kc, long vc,
                                     boolean kvBf16, CudaOps.KvAddressing kv, int nTok, int nHeads, int nKv,
                                     int headDim, float scale) {
        ops.attentionDecode(k, qkv, out, kc, vc, kvBf16, kv, nTok, nHeads, nKv, headDim, 0, scale);  // warm-up
        float ms = ops.device().time(() -> {
            for (int i = 0; i < TIMED_LAUNCHES; i++) {
                ops.attentionDecode(k, qkv, out, kc, vc, kvBf16, kv, nTok, nHeads, nKv, headDim, 0, scale);
            }
        });
        return ms * 1000.0 / TIMED_LAUNCHES;
    }
}
