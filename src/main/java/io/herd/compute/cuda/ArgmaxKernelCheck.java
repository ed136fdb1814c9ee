package io.herd.compute.cuda;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides on the device at hand whether {@link CudaOps#argmax} uses the two-pass sliced kernels instead of the
 * verified one-block-per-row kernel: both run on the same random logits of the model's vocabulary for 1, 5 and 64
 * rows, with the row maximum planted twice (the lower index must win) and a NaN (never chosen); the indices must be
 * identical, and the sliced kernels are used only if they are also faster at one row (a decode step).
 */
public final class ArgmaxKernelCheck {
    private static final int[] ROWS = {1, 5, 64};
    private static final int MAX_ROWS = 64;

    public record Result(boolean identical, double microsVerified, double microsSliced, boolean useSliced) {
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("indices_identical", identical);
            m.put("verified_us_rows1", microsVerified);
            m.put("sliced_us_rows1", microsSliced);
            m.put("use_sliced", useSliced);
            return m;
        }

        public String summary() {
            return String.format("argmax: sliced %s (identical %s, %.1f vs %.1f us)", useSliced, identical,
                    microsSliced, microsVerified);
        }
    }

    private ArgmaxKernelCheck() {}

    /** Runs the check for rows of {@code vocab} logits; returns the decision without applying it. */
    public static Result select(CudaOps ops, int vocab) {
        CudaDevice device = ops.device();
        boolean was = ops.slicedArgmax();
        ops.reserveArgmaxScratch(MAX_ROWS);
        long mark = device.allocationMark();
        try {
            long logits = device.alloc((long) MAX_ROWS * vocab * 4);
            ops.fillRandomF32(logits, (long) MAX_ROWS * vocab, 81, 10f);
            // row r: the value 100 at two indices (the lower must win) and a NaN after them
            for (int r = 0; r < MAX_ROWS; r++) {
                int a = (int) ((r * 7919L + 13) % vocab), b = (int) ((r * 104729L + 5) % vocab);
                long row = logits + 4L * r * vocab;
                device.uploadInts(new int[] {Float.floatToRawIntBits(100f)}, row + 4L * a);
                device.uploadInts(new int[] {Float.floatToRawIntBits(100f)}, row + 4L * b);
                device.uploadInts(new int[] {Float.floatToRawIntBits(Float.NaN)}, row + 4L * ((b + 1) % vocab));
            }
            long out = device.alloc(MAX_ROWS * 4L);
            boolean identical = true;
            for (int rows : ROWS) {
                identical &= Arrays.equals(run(ops, false, logits, rows, vocab, out),
                        run(ops, true, logits, rows, vocab, out));
            }
            double tRef = Double.NaN, tSliced = Double.NaN;
            if (identical) {
                tRef = tSliced = Double.POSITIVE_INFINITY;
                for (int round = 0; round < 3; round++) {
                    tRef = Math.min(tRef, time(ops, false, logits, vocab, out));
                    tSliced = Math.min(tSliced, time(ops, true, logits, vocab, out));
                }
            }
            return new Result(identical, tRef, tSliced, identical && tSliced < tRef);
        } finally {
            device.synchronize();
            ops.useSlicedArgmax(was);
            device.freeSince(mark);
        }
    }

    private static int[] run(CudaOps ops, boolean sliced, long logits, int rows, int vocab, long out) {
        ops.useSlicedArgmax(sliced);
        ops.device().zero(out, rows * 4L);
        ops.argmax(logits, rows, vocab, out);
        return ops.device().downloadInts(out, rows);
    }

    private static double time(CudaOps ops, boolean sliced, long logits, int vocab, long out) {
        ops.useSlicedArgmax(sliced);
        ops.argmax(logits, 1, vocab, out);  // warm-up
        float ms = ops.device().time(() -> {
            for (int i = 0; i < 20; i++) ops.argmax(logits, 1, vocab, out);
        });
        return ms * 1000.0 / 20;
    }
}
