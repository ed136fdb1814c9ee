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
 * A kernel that computes wrong results (or NaN) is never chosen, so a faulty fast kernel costs speed, not logits.
 */
public final class DecodeAttentionCheck {
    /** Largest |candidate − reference| allowed, relative to max(1, max |reference|). */
    public static final double TOLERANCE = 1e-4;
    private static final int CHECK_SEQS = 4;
    private static final int BLOCK_SIZE = 16;
    private static final int[] POSITIONS = {5, 130, 700, 2047};
    private static final int TIMED_LAUNCHES = 20;

    /** One kernel's outcome: error against the reference (NaN when not run), pass, and µs per batch-1 launch. */
    public record Candidate(double maxAbsError, boolean pass, double microsPerLaunch) {}

    /** The chosen kernel and what each candidate did. */
    public record Result(DecodeAttentionKernel chosen, Map<DecodeAttentionKernel, Candidate> candidates) {
        public String summary() {
            StringBuilder b = new StringBuilder("decode attention: ").append(chosen);
            candidates.forEach((k, c) -> b.append(String.format(" | %s err %.2e %s %.1f us", k, c.maxAbsError(),
                    c.pass() ? "ok" : "REJECTED", c.microsPerLaunch())));
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
            if (k != DecodeAttentionKernel.WARP_PER_HEAD && k.supports(headDim)) candidates.add(k);
        }
        if (candidates.isEmpty()) return new Result(DecodeAttentionKernel.WARP_PER_HEAD, out);
        CudaDevice device = ops.device();
        ops.reserveAttentionSplits((long) CHECK_SEQS * nHeads);
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
            long qkv = device.alloc((long) CHECK_SEQS * ld * 4);
            ops.fillRandomF32(qkv, (long) CHECK_SEQS * ld, 73, 3f);
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
            DecodeAttentionKernel best = DecodeAttentionKernel.WARP_PER_HEAD;
            double bestUs = timeMicros(ops, DecodeAttentionKernel.WARP_PER_HEAD, q1, gotD, kc, vc, kvBf16, one, nHeads,
                    nKv, headDim, scale);
            out.put(DecodeAttentionKernel.WARP_PER_HEAD, new Candidate(0, true, bestUs));
            for (DecodeAttentionKernel k : candidates) {
                double err = errors.get(k);
                boolean pass = err <= TOLERANCE;
                double us = pass ? timeMicros(ops, k, q1, gotD, kc, vc, kvBf16, one, nHeads, nKv, headDim, scale)
                        : Double.NaN;
                out.put(k, new Candidate(err, pass, us));
                if (pass && us < bestUs) {
                    best = k;
                    bestUs = us;
                }
            }
            return new Result(best, out);
        } finally {
            device.synchronize();
            device.freeSince(mark);
        }
    }

    private static double timeMicros(CudaOps ops, DecodeAttentionKernel k, long qkv, long out, long kc, long vc,
                                     boolean kvBf16, CudaOps.KvAddressing kv, int nHeads, int nKv, int headDim,
                                     float scale) {
        ops.attentionDecode(k, qkv, out, kc, vc, kvBf16, kv, 1, nHeads, nKv, headDim, 0, scale);  // warm-up
        float ms = ops.device().time(() -> {
            for (int i = 0; i < TIMED_LAUNCHES; i++) {
                ops.attentionDecode(k, qkv, out, kc, vc, kvBf16, kv, 1, nHeads, nKv, headDim, 0, scale);
            }
        });
        return ms * 1000.0 / TIMED_LAUNCHES;
    }
}
