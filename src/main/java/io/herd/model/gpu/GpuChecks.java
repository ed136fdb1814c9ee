package io.herd.model.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.herd.compute.cuda.CudaDevice;
import io.herd.compute.cuda.CudaOps;
import io.herd.compute.cuda.CudaPhaseTimer;
import io.herd.compute.cuda.DecodeAttentionCheck;
import io.herd.compute.cuda.DecodeAttentionKernel;
import io.herd.compute.cuda.DeviceMatrix;
import io.herd.compute.cuda.DeviceWeights;
import io.herd.compute.cuda.DeviceWeights.HostTensor;
import io.herd.compute.cuda.LinearKernelCheck;
import io.herd.compute.cuda.WeightFormat;
import io.herd.ffi.Cublas;
import io.herd.ffi.CudaAvailability;
import io.herd.ffi.CudaRuntime;
import io.herd.model.CpuForwardPass;
import io.herd.model.ForwardPass;
import io.herd.model.ForwardPass.BlockTable;
import io.herd.model.ForwardPass.SequenceChunk;
import io.herd.model.KvBlockCounts;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.WeightQuantization;
import io.herd.weights.SafetensorsCheckpoint;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Every GPU check in one run, written as one JSON report: kernel conformance against host references, fidelity of
 * the GPU forward pass on the shared fixtures (against Hugging Face's expected.json and the CPU f32 engine), cuBLAS
 * BF16 GEMM throughput, memory bandwidth, and Scout-sized decode throughput with int4 weights generated on the
 * device. A benchmark tool: it measures and records, the pass flags are the fidelity criteria.
 *
 * <p>Usage: {@code GpuChecks --out report.json [--fixtures DIR] [--context 512] [--steps 20] [--skip-scout]}
 */
public final class GpuChecks {
    private static final float BF16_TOLERANCE = 2e-2f;
    private static final float F32_TOLERANCE = 1e-3f;

    private final Map<String, Object> report = new LinkedHashMap<>();
    private final Path fixtures;
    private final int context;
    private final int steps;

    private final Path reportFile;

    private final String keySuffix;
    private int failedSections;

    private GpuChecks(Path fixtures, int context, int steps, Path reportFile, String keySuffix) {
        this.reportFile = reportFile;
        this.keySuffix = keySuffix;
        this.fixtures = fixtures;
        this.context = context;
        this.steps = steps;
    }

    public static void main(String[] args) throws Exception {
        Path out = null, fixtures = Path.of("../shared/fixtures");
        String keySuffix = "";
        int context = 512, steps = 20;
        boolean scout = true;
        java.util.Set<String> sections = new java.util.HashSet<>(List.of("kernels", "fidelity", "gemm", "bandwidth",
                "scout_decode"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--fixtures" -> fixtures = Path.of(args[++i]);
                case "--context" -> context = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--skip-scout" -> scout = false;
                case "--sections" -> sections = new java.util.HashSet<>(List.of(args[++i].split(",")));
                case "--verified-kernels-only" -> {
                    // fall-back run: no newer kernel is checked or launched; report keys say so
                    System.setProperty(CudaForwardPass.KERNEL_CHECKS_PROPERTY, "false");
                    keySuffix = "_verified_kernels_only";
                }
                case "--shape" -> {
                    if (!args[++i].equals("scout")) throw new IllegalArgumentException("only --shape scout is known");
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (out == null) throw new IllegalArgumentException("--out FILE is required");
        if (!scout) sections.remove("scout_decode");
        Files.createDirectories(out.toAbsolutePath().getParent());
        GpuChecks checks = new GpuChecks(fixtures, context, steps, out, keySuffix);
        int rc = checks.run(sections);
        checks.writeReport();
        System.out.println("report written to " + out);
        System.exit(rc);
    }

    private int run(java.util.Set<String> sections) {
        report.put("started", Instant.now().toString());
        report.put("commit", System.getenv().getOrDefault("HERD_COMMIT", "unknown"));
        report.put("jdk", Runtime.version().toString());
        CudaAvailability probe = CudaAvailability.probe();
        report.put("probe", Map.of("available", probe.available(), "reason", probe.reason()));
        System.out.println("probe: " + probe.reason());
        if (!probe.available()) return 2;
        try (CudaDevice device = CudaDevice.open(0)) {
            CudaDevice.DeviceInfo info = device.info();
            Map<String, Object> dev = new LinkedHashMap<>();
            dev.put("name", info.name());
            dev.put("total_memory_gib", gib(info.totalMemory()));
            dev.put("multiprocessors", info.multiprocessors());
            dev.put("compute_capability", info.ccMajor() + "." + info.ccMinor());
            dev.put("driver_version", info.driverVersion());
            dev.put("runtime_version", info.runtimeVersion());
            dev.put("cublas_version", info.cublasVersion());
            dev.put("cudart", info.cudartFile());
            dev.put("cublas", info.cublasFile());
            Spec spec = Spec.of(info.name());
            dev.put("spec_peak_bf16_tflops", spec == null ? null : spec.bf16Tflops());
            dev.put("spec_memory_bandwidth_gbs", spec == null ? null : spec.bandwidthGbs());
            report.put("device", dev);
            if (sections.contains("kernels")) section("kernels", () -> kernelChecks(device));
            if (sections.contains("fidelity")) section("fidelity", () -> fidelity(device));
            if (sections.contains("gemm")) section("gemm", () -> gemm(device, spec));
            if (sections.contains("bandwidth")) section("bandwidth", () -> bandwidth(device, spec));
            if (sections.contains("scout_decode")) section("scout_decode", () -> scoutDecode(device, spec));
        }
        report.put("finished", Instant.now().toString());
        return failedSections == 0 ? 0 : 3;  // a section that threw makes the exit code say so
    }

    private void section(String section, Supplier<Object> body) {
        String name = section + keySuffix;
        long t0 = System.nanoTime();
        System.out.println("== " + name);
        try {
            Object result = body.get();
            report.put(name, result);
        } catch (RuntimeException | Error e) {
            Map<String, Object> err = new LinkedHashMap<>();
            err.put("error", e.toString());
            List<String> trace = new ArrayList<>();
            for (StackTraceElement el : e.getStackTrace()) {
                if (trace.size() < 8) trace.add(el.toString());
            }
            err.put("at", trace);
            report.put(name, err);
            failedSections++;
            e.printStackTrace();
        }
        System.out.printf("   %s took %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
        writeReport();  // what is done so far survives a later crash or time limit
    }

    private void writeReport() {
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(reportFile.toFile(), report);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write the report " + reportFile, e);
        }
    }

    // ---- kernel conformance ---------------------------------------------------------------------------------------

    static Map<String, Object> kernelChecks(CudaDevice device) {
        Map<String, Object> out = new LinkedHashMap<>();
        CudaOps ops = new CudaOps(device);
        DeviceWeights up = new DeviceWeights(ops);
        long mark = device.allocationMark();
        Random rnd = new Random(7);
        int nGroups = 3, nOut = 72, nIn = 256;
        float[] w = new float[nGroups * nOut * nIn];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian() * 0.05f;
        boolean allPass = true, tiledPass = true, dequantPass = true;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment wHost = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w);
            for (WeightFormat f : WeightFormat.values()) {
              for (boolean tiled : f == WeightFormat.INT4 ? new boolean[] {false, true} : new boolean[] {false}) {
                ops.useTiledInt4(tiled, tiled);
                for (int group : f.quantized() ? new int[] {32, 128} : new int[] {0}) {
                    for (int rows : new int[] {1, 5, 20}) {
                        DeviceMatrix m = up.matrix(List.of(new HostTensor(wHost, false)), nGroups, nOut, nIn, false, f,
                                f.quantized() ? group : 32);
                        float[] deq = dequantized(device, m, w);
                        // grouped: rows tokens for each group; ungrouped: group 0 only
                        float[] x = new float[nGroups * rows * nIn];
                        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                        long xd = device.alloc(x.length * 4L), yd = device.alloc((long) nGroups * rows * nOut * 4);
                        long offs = device.alloc((nGroups + 1) * 4L);
                        int[] offsets = new int[nGroups + 1];
                        for (int g = 0; g <= nGroups; g++) offsets[g] = g * rows;
                        copyIn(device, arena, xd, x);
                        copyIn(device, arena, offs, offsets);
                        ops.linearGrouped(m, nGroups, xd, yd, offs, nGroups * rows, rows, rows > 4, false, false);
                        float[] yGrouped = copyOut(device, arena, yd, nGroups * rows * nOut);
                        float[] xRef = f.quantized() ? quantizedActivations(x, nIn) : x;
                        double errGrouped = 0, errDense = 0, scale = 0;
                        for (int g = 0; g < nGroups; g++) {
                            for (int t = 0; t < rows; t++) {
                                for (int o = 0; o < nOut; o++) {
                                    double ref = 0;
                                    for (int i = 0; i < nIn; i++) {
                                        ref += (double) xRef[(g * rows + t) * nIn + i] * deq[(g * nOut + o) * nIn + i];
                                    }
                                    errGrouped = Math.max(errGrouped, Math.abs(ref - yGrouped[(g * rows + t) * nOut + o]));
                                    scale = Math.max(scale, Math.abs(ref));
                                }
                            }
                        }
                        // dense path (group 0 as a plain matrix; cuBLAS for F32/BF16 from 9 rows, x rounded to bf16 there)
                        DeviceMatrix m0 = new DeviceMatrix(f, 1, nOut, nIn, m.groupSize(), m.data(), m.scales());
                        ops.linear(m0, xd, yd, rows, false);
                        float[] yDense = copyOut(device, arena, yd, rows * nOut);
                        boolean xRounded = f == WeightFormat.BF16 && rows >= 64;
                        for (int t = 0; t < rows; t++) {
                            for (int o = 0; o < nOut; o++) {
                                double ref = 0;
                                for (int i = 0; i < nIn; i++) {
                                    float xv = xRef[t * nIn + i];
                                    if (xRounded) xv = bf16(xv);
                                    ref += (double) xv * deq[o * nIn + i];
                                }
                                errDense = Math.max(errDense, Math.abs(ref - yDense[t * nOut + o]));
                            }
                        }
                        double qErr = 0;
                        for (int i = 0; i < w.length; i++) qErr = Math.max(qErr, Math.abs(w[i] - deq[i]));
                        double rel = Math.max(errGrouped, errDense) / scale;
                        boolean pass = rel < 1e-4;
                        // the tiled int4 kernels are used only after the load-time check accepts them: not gating
                        if (tiled) tiledPass &= pass;
                        else allPass &= pass;
                        Map<String, Object> r = new LinkedHashMap<>();
                        r.put("max_rel_error_vs_host_reference", rel);
                        r.put("max_abs_quantization_error", qErr);
                        r.put("pass", pass);
                        out.put("linear_" + (tiled ? "tiled_" : "") + f.kernelSuffix + (f.quantized() ? "_g" + group : "")
                                + "_rows" + rows, r);
                        if (f.quantized() && !tiled && rows > 4) {
                            // dequantize + cuBLAS path: bf16 x times bf16-rounded dequantized weights, fp32 sums
                            ops.useDequantGemmFrom(1);
                            ops.linear(m0, xd, yd, rows, false);
                            ops.useDequantGemmFrom(Integer.MAX_VALUE);
                            float[] yDq = copyOut(device, arena, yd, rows * nOut);
                            double errDq = 0;
                            for (int t = 0; t < rows; t++) {
                                for (int o = 0; o < nOut; o++) {
                                    double ref = 0;
                                    for (int i = 0; i < nIn; i++) {
                                        ref += (double) bf16(x[t * nIn + i]) * bf16(deq[o * nIn + i]);
                                    }
                                    errDq = Math.max(errDq, Math.abs(ref - yDq[t * nOut + o]));
                                }
                            }
                            boolean dqPass = errDq / scale < 1e-4;
                            dequantPass &= dqPass;
                            out.put("linear_dequant_gemm_" + f.kernelSuffix + "_g" + group + "_rows" + rows,
                                    Map.of("max_rel_error_vs_host_reference", errDq / scale, "pass", dqPass));
                        }
                        device.free(xd);
                        device.free(yd);
                        device.free(offs);
                    }
                }
              }
            }
            ops.useTiledInt4(false, false);
        } finally {
            device.freeSince(mark);
        }
        out.put("tiled_int4_pass", tiledPass);
        out.put("dequant_gemm_pass", dequantPass);
        Map<String, Object> attention = attentionChecks(device);
        out.put("attention", attention);
        out.put("pass", allPass && (boolean) attention.get("pass"));
        return out;
    }

    /**
     * The attention kernels (warp-per-head decode, the headDim-128 block, split-key and GQA decode, tiled prefill) against a
     * host reference over a paged cache with shuffled block ids: GQA 8 query heads on 2 KV heads, global and chunked
     * masks, f32 and bf16 caches.
     */
    static Map<String, Object> attentionChecks(CudaDevice device) {
        Map<String, Object> out = new LinkedHashMap<>();
        CudaOps ops = new CudaOps(device);
        long mark = device.allocationMark();
        boolean allPass = true;
        int nHeads = 8, nKv = 2, blockSize = 16, nBlocks = 64, maxBlocks = 16;
        ops.reserveAttentionSplits(4L * nHeads);
        boolean hd128Pass = true;
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int headDim : new int[] {16, 128}) {
                for (boolean bf16 : new boolean[] {false, true}) {
                    for (int chunk : new int[] {0, 64}) {
                        int kvElems = nBlocks * blockSize * nKv * headDim;
                        float[] k = new float[kvElems], v = new float[kvElems];
                        for (int i = 0; i < kvElems; i++) {
                            k[i] = (float) rnd.nextGaussian();
                            v[i] = (float) rnd.nextGaussian();
                            if (bf16) { k[i] = bf16(k[i]); v[i] = bf16(v[i]); }
                        }
                        long kd = upload(device, arena, k, bf16), vd = upload(device, arena, v, bf16);
                        // 4 sequences, each its own shuffled blocks
                        int nSeq = 4;
                        int[] tables = new int[nSeq * maxBlocks];
                        List<Integer> ids = new ArrayList<>();
                        for (int b = 0; b < nBlocks; b++) ids.add(b);
                        java.util.Collections.shuffle(ids, rnd);
                        for (int i = 0; i < tables.length; i++) tables[i] = ids.get(i);
                        long tablesD = device.alloc(tables.length * 4L);
                        copyIn(device, arena, tablesD, tables);
                        // decode: one token per sequence at assorted positions; prefill: 40 tokens of sequence 3
                        int[] decodePos = {0, 31, 100, 250};
                        int[] decodeSeq = {0, 1, 2, 3};
                        int nPre = 40, preStart = 60;
                        int[] prePos = new int[nPre], preSeq = new int[nPre];
                        for (int i = 0; i < nPre; i++) { prePos[i] = preStart + i; preSeq[i] = 3; }
                        for (String kind : headDim == 128 ? List.of("decode", "decode_hd128", "decode_split_hd128",
                                "decode_gqa_hd128", "prefill")
                                : List.of("decode", "prefill")) {
                            boolean prefill = kind.equals("prefill");
                            int[] pos = prefill ? prePos : decodePos, seq = prefill ? preSeq : decodeSeq;
                            int nTok = pos.length, ld = (nHeads + 2 * nKv) * headDim;
                            float[] qkv = new float[nTok * ld];
                            for (int i = 0; i < qkv.length; i++) qkv[i] = (float) rnd.nextGaussian();
                            long qkvD = device.alloc(qkv.length * 4L), outD = device.alloc((long) nTok * nHeads * headDim * 4);
                            long posD = device.alloc(nTok * 4L), seqD = device.alloc(nTok * 4L);
                            copyIn(device, arena, qkvD, qkv);
                            copyIn(device, arena, posD, pos);
                            copyIn(device, arena, seqD, seq);
                            CudaOps.KvAddressing kv = new CudaOps.KvAddressing(posD, seqD, tablesD, maxBlocks, blockSize);
                            float scale = (float) (1 / Math.sqrt(headDim));
                            switch (kind) {
                                case "decode" -> ops.attentionDecodeWarpPerHead(qkvD, outD, kd, vd, bf16, kv, nTok, nHeads,
                                        nKv, headDim, chunk, scale);
                                case "decode_hd128" -> ops.attentionDecode(DecodeAttentionKernel.BLOCK_PER_HEAD_HD128,
                                        qkvD, outD, kd, vd, bf16, kv, nTok, nHeads, nKv, headDim, chunk, scale);
                                case "decode_split_hd128" -> ops.attentionDecode(DecodeAttentionKernel.SPLIT_KEYS_HD128,
                                        qkvD, outD, kd, vd, bf16, kv, nTok, nHeads, nKv, headDim, chunk, scale);
                                case "decode_gqa_hd128" -> ops.attentionDecode(DecodeAttentionKernel.GQA_SPLIT_HD128,
                                        qkvD, outD, kd, vd, bf16, kv, nTok, nHeads, nKv, headDim, chunk, scale);
                                default -> {
                                    int nTiles = (nTok + 15) / 16;
                                    int[] ts = new int[nTiles], tl = new int[nTiles];
                                    for (int i = 0; i < nTiles; i++) { ts[i] = 16 * i; tl[i] = Math.min(16, nTok - 16 * i); }
                                    long tsD = device.alloc(nTiles * 4L), tlD = device.alloc(nTiles * 4L);
                                    copyIn(device, arena, tsD, ts);
                                    copyIn(device, arena, tlD, tl);
                                    ops.attentionPrefill(qkvD, outD, kd, vd, bf16, kv, tsD, tlD, nTiles, nHeads, nKv,
                                            headDim, chunk, scale);
                                }
                            }
                            float[] got = copyOut(device, arena, outD, nTok * nHeads * headDim);
                            double maxErr = 0, maxRef = 0;
                            for (int t = 0; t < nTok; t++) {
                                int p = pos[t], lo = chunk > 0 ? p / chunk * chunk : 0;
                                for (int h = 0; h < nHeads; h++) {
                                    int kvh = h / (nHeads / nKv);
                                    double[] sc = new double[p - lo + 1];
                                    double mx = Double.NEGATIVE_INFINITY;
                                    for (int j = lo; j <= p; j++) {
                                        int off = kvOffset(tables, seq[t], maxBlocks, j, blockSize, nKv, kvh, headDim);
                                        double d = 0;
                                        for (int e = 0; e < headDim; e++) {
                                            d += (double) (qkv[t * ld + h * headDim + e] * scale) * k[off + e];
                                        }
                                        sc[j - lo] = d;
                                        mx = Math.max(mx, d);
                                    }
                                    double den = 0;
                                    for (int j = 0; j < sc.length; j++) { sc[j] = Math.exp(sc[j] - mx); den += sc[j]; }
                                    for (int e = 0; e < headDim; e++) {
                                        double o = 0;
                                        for (int j = lo; j <= p; j++) {
                                            o += sc[j - lo] * v[kvOffset(tables, seq[t], maxBlocks, j, blockSize, nKv, kvh,
                                                    headDim) + e];
                                        }
                                        o /= den;
                                        maxRef = Math.max(maxRef, Math.abs(o));
                                        maxErr = Math.max(maxErr, Math.abs(o - got[(t * nHeads + h) * headDim + e]));
                                    }
                                }
                            }
                            boolean pass = maxErr <= 1e-4 * Math.max(1, maxRef);
                            // the headDim-128 kernels are used only after the load-time check accepts them, so
                            // they are reported here without gating
                            if (kind.endsWith("hd128")) hd128Pass &= pass;
                            else allPass &= pass;
                            out.put(kind + "_hd" + headDim + (bf16 ? "_bf16" : "_f32") + (chunk > 0 ? "_chunk" + chunk : "_global"),
                                    Map.of("max_abs_error", maxErr, "pass", pass));
                        }
                    }
                }
            }
        } finally {
            device.freeSince(mark);
        }
        out.put("hd128_kernels_pass", hd128Pass);
        out.put("pass", allPass);
        return out;
    }

    private static int kvOffset(int[] tables, int seq, int maxBlocks, int pos, int blockSize, int nKv, int kvh,
                                int headDim) {
        int blk = tables[seq * maxBlocks + pos / blockSize];
        return ((blk * blockSize + pos % blockSize) * nKv + kvh) * headDim;
    }

    private static long upload(CudaDevice device, Arena arena, float[] values, boolean bf16) {
        MemorySegment h;
        if (bf16) {
            h = arena.allocate(values.length * 2L);
            for (int i = 0; i < values.length; i++) {
                h.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
            }
        } else {
            h = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
        }
        long d = device.alloc(h.byteSize());
        device.runtime().memcpy(d, h.address(), h.byteSize(), CudaRuntime.HOST_TO_DEVICE);
        return d;
    }

    /** The weights the device actually holds, decoded on the host per the documented formats. */
    private static float[] dequantized(CudaDevice device, DeviceMatrix m, float[] original) {
        int n = m.nGroups() * m.nOut() * m.nIn();
        float[] out = new float[n];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(Math.max(16, m.payloadBytes()));
            device.runtime().memcpy(data.address(), m.data(), m.payloadBytes(), CudaRuntime.DEVICE_TO_HOST);
            MemorySegment scales = a.allocate(Math.max(16, m.scaleBytes()));
            if (m.scaleBytes() > 0) {
                device.runtime().memcpy(scales.address(), m.scales(), m.scaleBytes(), CudaRuntime.DEVICE_TO_HOST);
            }
            for (int i = 0; i < n; i++) {
                int row = i / m.nIn(), col = i % m.nIn();
                out[i] = switch (m.format()) {
                    case F32 -> data.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    case BF16 -> Float.intBitsToFloat((data.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xffff) << 16);
                    case INT8 -> data.get(ValueLayout.JAVA_BYTE, i)
                            * scale(scales, (long) row * (m.nIn() / m.groupSize()) + col / m.groupSize());
                    case INT4 -> {
                        int b = data.get(ValueLayout.JAVA_BYTE, i / 2) & 0xff;
                        int nib = (i % 2 == 0) ? (b & 0xf) : (b >>> 4);
                        yield (nib - 8) * scale(scales, (long) row * (m.nIn() / m.groupSize()) + col / m.groupSize());
                    }
                };
            }
        }
        return out;
    }

    /** What the quantized kernels multiply with: x rounded per 32 inputs to int8 (scale max|x| / 127). */
    static float[] quantizedActivations(float[] x, int nIn) {
        float[] out = new float[x.length];
        for (int g0 = 0; g0 < x.length; g0 += 32) {
            float amax = 0;
            for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[g0 + i]));
            float s = amax / 127f;
            for (int i = 0; i < 32; i++) {
                float q = s > 0 ? Math.max(-127, Math.min(127, (float) Math.rint(x[g0 + i] / s))) : 0;
                out[g0 + i] = q * s;
            }
        }
        return out;
    }

    private static float scale(MemorySegment scales, long i) {
        return Float.intBitsToFloat((scales.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xffff) << 16);
    }

    private static float bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        bits += 0x7fff + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xffff0000);
    }

    private static void copyIn(CudaDevice device, Arena arena, long dst, float[] v) {
        MemorySegment h = arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
        device.runtime().memcpy(dst, h.address(), h.byteSize(), CudaRuntime.HOST_TO_DEVICE);
    }

    private static void copyIn(CudaDevice device, Arena arena, long dst, int[] v) {
        MemorySegment h = arena.allocateFrom(ValueLayout.JAVA_INT, v);
        device.runtime().memcpy(dst, h.address(), h.byteSize(), CudaRuntime.HOST_TO_DEVICE);
    }

    private static float[] copyOut(CudaDevice device, Arena arena, long src, int n) {
        device.synchronize();
        MemorySegment h = arena.allocate(n * 4L);
        device.runtime().memcpy(h.address(), src, n * 4L, CudaRuntime.DEVICE_TO_HOST);
        return h.toArray(ValueLayout.JAVA_FLOAT);
    }

    // ---- fidelity on the shared fixtures --------------------------------------------------------------------------

    private record Case(String name, int[] prompt, float[][] promptLogits, int[] greedy) {}

    private static List<Case> cases(Path dir) {
        try {
            JsonNode root = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
            List<Case> out = new ArrayList<>();
            for (JsonNode c : root.get("cases")) {
                int[] prompt = new int[c.get("prompt_ids").size()];
                for (int i = 0; i < prompt.length; i++) prompt[i] = c.get("prompt_ids").get(i).asInt();
                JsonNode pl = c.get("prompt_logits");
                float[][] logits = new float[pl.size()][];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = new float[pl.get(i).size()];
                    for (int j = 0; j < logits[i].length; j++) logits[i][j] = (float) pl.get(i).get(j).asDouble();
                }
                int[] greedy = new int[c.get("greedy").size()];
                for (int i = 0; i < greedy.length; i++) greedy[i] = c.get("greedy").get(i).get("id").asInt();
                out.add(new Case(c.get("name").asText(), prompt, logits, greedy));
            }
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Object fidelity(CudaDevice device) {
        Map<String, Object> out = new LinkedHashMap<>();
        boolean allPass = true;
        for (String model : List.of("llama4-tiny-scout", "llama4-tiny-maverick")) {
            Path dir = fixtures.resolve(model);
            Map<String, Object> m = new LinkedHashMap<>();
            Llama4Config config = Llama4ConfigParser.parse(dir.resolve("config.json"));
            List<Case> cases = cases(dir);
            try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
                Map<String, float[][]> cpuLogits = cpuReference(ckpt, config, cases);
                // Gated: the stored weights with an f32 cache against HF's 1e-3; for a BF16 checkpoint also the bf16
                // serving mode (bf16 KV cache) against 2e-2. Converting an F32 checkpoint to bf16 or quantizing it
                // changes the model itself, so those modes are measured and reported, not gated.
                boolean bf16Checkpoint = !isF32(ckpt);
                record Mode(String name, WeightFormat format, boolean kvBf16, float tolerance, boolean gated) {}
                for (Mode mode : List.of(new Mode("as_stored", null, false, F32_TOLERANCE, true),
                        new Mode("bf16", WeightFormat.BF16, true, BF16_TOLERANCE, bf16Checkpoint),
                        new Mode("int8_g32", WeightFormat.INT8, true, Float.NaN, false),
                        new Mode("int4_g32", WeightFormat.INT4, true, Float.NaN, false))) {
                    try {
                        Map<String, Object> r = fidelityMode(device, ckpt, config, cases, cpuLogits, mode.format(),
                                mode.kvBf16());
                        if (mode.gated()) {
                            float tol = mode.tolerance();
                            boolean pass = (double) r.get("max_abs_logit_diff_vs_hf") <= tol
                                    && (boolean) r.get("greedy_identical") && (boolean) r.get("batched_greedy_identical");
                            r.put("tolerance", tol);
                            r.put("pass", pass);
                            allPass &= pass;
                        }
                        m.put(mode.name(), r);
                    } catch (RuntimeException e) {
                        m.put(mode.name(), Map.of("error", e.toString()));
                        if (mode.gated()) allPass = false;
                    }
                }
            }
            out.put(model, m);
        }
        out.put("pass", allPass);
        return out;
    }

    private static boolean isF32(SafetensorsCheckpoint ckpt) {
        for (String n : ckpt.names()) {
            if (n.endsWith("q_proj.weight")) return ckpt.tensor(n).dtype() == io.herd.compute.DType.F32;
        }
        return false;
    }

    private static final int BLOCK = 4;
    private static final int MAX_BLOCKS = 16;

    /** Block table of case {@code c}: physical ids interleaved across cases and reversed, to exercise paging. */
    private static BlockTable table(int c, int nCases) {
        int[] g = new int[MAX_BLOCKS], ch = new int[MAX_BLOCKS];
        for (int b = 0; b < MAX_BLOCKS; b++) {
            g[b] = (MAX_BLOCKS - 1 - b) * nCases + c;
            ch[b] = b * nCases + c;
        }
        return new BlockTable(g, ch);
    }

    private static CudaForwardPass.Options fixtureOptions(WeightFormat format, boolean kvBf16) {
        return new CudaForwardPass.Options(format, 32, kvBf16, BLOCK, 64, 64, 128, 8, MAX_BLOCKS, 64, true);
    }

    private Map<String, float[][]> cpuReference(SafetensorsCheckpoint ckpt, Llama4Config config, List<Case> cases) {
        Map<String, float[][]> out = new LinkedHashMap<>();
        Llama4Weights weights = Llama4Weights.load(ckpt, config, WeightQuantization.NONE);
        try (CpuForwardPass cpu = new CpuForwardPass(weights, new KvBlockCounts(BLOCK, 64, 64), Precision.F32)) {
            for (int c = 0; c < cases.size(); c++) {
                Case k = cases.get(c);
                float[] l = cpu.forward(List.of(new SequenceChunk(k.prompt(), 0, table(c, cases.size()),
                        k.prompt().length))).getFirst();
                out.put(k.name(), split(l, k.prompt().length, config.vocabSize()));
            }
        }
        return out;
    }

    private static float[][] split(float[] flat, int rows, int vocab) {
        float[][] out = new float[rows][vocab];
        for (int r = 0; r < rows; r++) System.arraycopy(flat, r * vocab, out[r], 0, vocab);
        return out;
    }

    private Map<String, Object> fidelityMode(CudaDevice device, SafetensorsCheckpoint ckpt, Llama4Config config,
                                             List<Case> cases, Map<String, float[][]> cpuLogits, WeightFormat format,
                                             boolean kvBf16) {
        Map<String, Object> r = new LinkedHashMap<>();
        int vocab = config.vocabSize();
        try (CudaForwardPass gpu = CudaForwardPass.load(device, config, ckpt, fixtureOptions(format, kvBf16))) {
            r.put("matrix_format", gpu.options().matrixFormat().toString());
            r.put("kv_cache", kvBf16 ? "bf16" : "f32");
            double maxHf = 0, maxCpu = 0;
            boolean greedyOk = true;
            Map<String, Object> perCase = new LinkedHashMap<>();
            // one sequence at a time: prompt (all logits), then greedy decode with the KV cache
            for (int c = 0; c < cases.size(); c++) {
                Case k = cases.get(c);
                BlockTable t = table(c, cases.size());
                float[][] logits = split(gpu.forward(List.of(new SequenceChunk(k.prompt(), 0, t, k.prompt().length)))
                        .getFirst(), k.prompt().length, vocab);
                double dHf = maxAbs(logits, k.promptLogits()), dCpu = maxAbs(logits, cpuLogits.get(k.name()));
                int[] ids = new int[k.greedy().length];
                int next = argmax(logits[logits.length - 1]);
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = next;
                    if (i + 1 < ids.length) {
                        float[] l = gpu.forward(List.of(new SequenceChunk(new int[] {next}, k.prompt().length + i, t, 1)))
                                .getFirst();
                        next = argmax(l);
                    }
                }
                int agree = 0;
                while (agree < ids.length && ids[agree] == k.greedy()[agree]) agree++;
                greedyOk &= agree == ids.length;
                maxHf = Math.max(maxHf, dHf);
                maxCpu = Math.max(maxCpu, dCpu);
                perCase.put(k.name(), Map.of("max_abs_vs_hf", dHf, "max_abs_vs_cpu_f32", dCpu,
                        "greedy_prefix_agreement", agree + "/" + ids.length));
            }
            r.put("cases", perCase);
            r.put("max_abs_logit_diff_vs_hf", maxHf);
            r.put("max_abs_logit_diff_vs_cpu_f32", maxCpu);
            r.put("greedy_identical", greedyOk);
            // all cases in one batch (fresh blocks: offset the ids), then batched greedy decode (graph replay)
            int n = cases.size();
            List<SequenceChunk> prompts = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                prompts.add(new SequenceChunk(cases.get(c).prompt(), 0, table(c, n), cases.get(c).prompt().length));
            }
            List<float[]> batched = gpu.forward(prompts);
            double maxBatched = 0;
            int[] next = new int[n];
            int[][] ids = new int[n][];
            for (int c = 0; c < n; c++) {
                float[][] l = split(batched.get(c), cases.get(c).prompt().length, vocab);
                maxBatched = Math.max(maxBatched, maxAbs(l, cases.get(c).promptLogits()));
                next[c] = argmax(l[l.length - 1]);
                ids[c] = new int[cases.get(c).greedy().length];
            }
            int nNew = ids[0].length;
            for (int i = 0; i < nNew; i++) {
                List<SequenceChunk> step = new ArrayList<>();
                for (int c = 0; c < n; c++) {
                    ids[c][i] = next[c];
                    step.add(new SequenceChunk(new int[] {next[c]}, cases.get(c).prompt().length + i, table(c, n), 1));
                }
                if (i + 1 < nNew) next = gpu.forwardGreedy(step);
            }
            boolean batchedOk = true;
            for (int c = 0; c < n; c++) batchedOk &= java.util.Arrays.equals(ids[c], cases.get(c).greedy());
            r.put("batched_max_abs_logit_diff_vs_hf", maxBatched);
            r.put("batched_greedy_identical", batchedOk);
        }
        return r;
    }

    private static double maxAbs(float[][] a, float[][] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
        }
        return m;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    // ---- cuBLAS GEMM and bandwidth ------------------------------------------------------------------------------

    private Object gemm(CudaDevice device, Spec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        CudaOps ops = new CudaOps(device);
        long mark = device.allocationMark();
        try {
            for (int[] s : new int[][] {{8192, 8192, 8192}, {4096, 4096, 4096}, {64, 16384, 5120}}) {
                int m = s[0], n = s[1], k = s[2];
                long a = device.alloc((long) m * k * 2), b = device.alloc((long) k * n * 2), c = device.alloc((long) m * n * 2);
                ops.fillRandomBf16(a, (long) m * k, 1, 1f);
                ops.fillRandomBf16(b, (long) k * n, 2, 1f);
                Runnable one = () -> device.cublas().gemmEx(device.cublasHandle(), Cublas.OP_N, Cublas.OP_N, n, m, k, 1f,
                        b, Cublas.R_16BF, n, a, Cublas.R_16BF, k, 0f, c, Cublas.R_16BF, n, Cublas.COMPUTE_32F);
                for (int i = 0; i < 3; i++) one.run();
                int iters = 20;
                float ms = device.time(() -> { for (int i = 0; i < iters; i++) one.run(); });
                double tflops = 2.0 * m * n * k * iters / (ms / 1e3) / 1e12;
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("tflops", tflops);
                r.put("ms_per_gemm", ms / iters);
                if (spec != null) r.put("fraction_of_spec_peak", tflops / spec.bf16Tflops());
                out.put("bf16_gemm_" + m + "x" + n + "x" + k, r);
                device.free(a);
                device.free(b);
                device.free(c);
            }
            // strided batched: 16 experts of [2048 x 5120] x [5120 x 256 tokens]
            int batch = 16, m = 256, n = 2048, k = 5120;
            long a = device.alloc((long) batch * m * k * 2), b = device.alloc((long) batch * k * n * 2);
            long c = device.alloc((long) batch * m * n * 2);
            ops.fillRandomBf16(a, (long) batch * m * k, 3, 1f);
            ops.fillRandomBf16(b, (long) batch * k * n, 4, 1f);
            Runnable one = () -> device.cublas().gemmStridedBatchedEx(device.cublasHandle(), Cublas.OP_N, Cublas.OP_N, n, m,
                    k, 1f, b, Cublas.R_16BF, n, (long) k * n, a, Cublas.R_16BF, k, (long) m * k, 0f, c, Cublas.R_16BF, n,
                    (long) m * n, batch, Cublas.COMPUTE_32F);
            for (int i = 0; i < 3; i++) one.run();
            float ms = device.time(() -> { for (int i = 0; i < 10; i++) one.run(); });
            out.put("bf16_strided_batched_16x256x2048x5120_tflops", 2.0 * batch * m * n * k * 10 / (ms / 1e3) / 1e12);
        } finally {
            device.freeSince(mark);
        }
        return out;
    }

    private Object bandwidth(CudaDevice device, Spec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        CudaOps ops = new CudaOps(device);
        DeviceWeights up = new DeviceWeights(ops);
        ops.reserveActivationScratch(64, 5120);  // before the mark: freeSince must not free the ops' scratch
        LinearKernelCheck.Result tiledCheck = LinearKernelCheck.select(ops);
        out.put("int4_tiled_kernel_check", tiledCheck.asMap());
        long mark = device.allocationMark();
        try {
            long bytes = 2L << 30;
            long a = device.alloc(bytes), b = device.alloc(bytes);
            device.zero(a, bytes);
            device.copy(b, a, bytes);
            float ms = device.time(() -> { for (int i = 0; i < 10; i++) device.copy(b, a, bytes); });
            double copyGbs = 2.0 * bytes * 10 / (ms / 1e3) / 1e9;
            out.put("device_copy_gbs_read_plus_write", copyGbs);
            device.free(a);
            device.free(b);
            for (WeightFormat f : new WeightFormat[] {WeightFormat.INT4, WeightFormat.INT8, WeightFormat.BF16}) {
                DeviceMatrix m = up.random(1, 16 * 8192, 5120, f, 128, 11);
                long x = device.alloc(5120L * 4 * 64), y = device.alloc(16L * 8192 * 4 * 64);
                ops.fillRandomF32(x, 5120L * 64, 5, 1f);
                // int4: the one-row-per-warp kernels, then the tiled ones (whatever the check decided)
                for (boolean tiled : f == WeightFormat.INT4 ? new boolean[] {false, true} : new boolean[] {false}) {
                    ops.useTiledInt4(tiled, tiled);
                    for (int rows : new int[] {1, 4, 16, 64}) {
                        ops.linear(m, x, y, rows, false);
                        float t = device.time(() -> { for (int i = 0; i < 20; i++) ops.linear(m, x, y, rows, false); });
                        double gbs = (double) m.bytes() * 20 / (t / 1e3) / 1e9;
                        Map<String, Object> r = new LinkedHashMap<>();
                        r.put("weight_gbs", gbs);
                        r.put("us_per_call", t / 20 * 1e3);
                        if (spec != null) r.put("fraction_of_spec_bandwidth", gbs / spec.bandwidthGbs());
                        out.put("linear_" + (tiled ? "tiled_" : "") + f.kernelSuffix + "_131072x5120_rows" + rows, r);
                    }
                }
                ops.useTiledInt4(false, false);
                device.freeSince(mark);
            }
        } finally {
            device.freeSince(mark);
        }
        return out;
    }

    // ---- Scout decode ------------------------------------------------------------------------------------------------

    private Object scoutDecode(CudaDevice device, Spec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        Llama4Config scout = Llama4Config.scout();
        int maxBatch = 64, block = 16;
        int maxBlocks = (context + steps + 8) / block + 2;
        CudaForwardPass.Options opts = new CudaForwardPass.Options(WeightFormat.INT4, 128, true, block,
                maxBatch * maxBlocks, maxBatch * maxBlocks, maxBatch, maxBatch, maxBlocks, maxBatch, true);
        long weightBytes = CudaForwardPass.estimateWeightBytes(scout, opts, WeightFormat.BF16);
        long kvPerToken = 2L * scout.nLayers() * scout.nKvHeads() * scout.headDim() * 2;
        out.put("config", "Llama 4 Scout dimensions, 48 layers, 16 experts top-1, int4 group 128 (bf16 scales), "
                + "bf16 embedding, int4 lm_head, bf16 KV, random weights generated on the device");
        out.put("weights_gib", gib(weightBytes));
        out.put("kv_bytes_per_token_all_layers", kvPerToken);
        long free = device.runtime().memGetInfo().freeBytes();
        out.put("free_before_load_gib", gib(free));
        long h100 = 80L * 1000 * 1000 * 1000 - (2L << 30);
        out.put("fits_h100_80gb_with_kv_tokens", Math.max(0, (h100 - weightBytes - (1L << 30)) / kvPerToken));
        out.put("fits_this_card_with_kv_tokens", Math.max(0, (free - weightBytes - (1L << 30)) / kvPerToken));
        long t0 = System.nanoTime();
        try (CudaForwardPass gpu = CudaForwardPass.synthetic(device, scout, opts, 1234)) {
            out.put("load_seconds", (System.nanoTime() - t0) / 1e9);
            out.put("memory_plan", Map.of("weights_gib", gib(gpu.memoryPlan().weightBytes()),
                    "kv_gib", gib(gpu.memoryPlan().kvBytes()), "activations_gib", gib(gpu.memoryPlan().activationBytes()),
                    "free_gib", gib(gpu.memoryPlan().freeBytes()), "fits", gpu.memoryPlan().fits()));
            long bytesPerStepBatch1 = activeBytesPerToken(scout, opts) + (long) context * kvPerToken;
            out.put("bytes_read_per_decode_step_batch1", bytesPerStepBatch1);
            out.put("decode_attention_load_check", choiceReport(gpu.decodeAttentionChoice()));
            gpu.linearKernelChoice().ifPresent(c -> out.put("int4_linear_load_check", c.asMap()));
            gpu.dequantGemmChoice().ifPresent(c -> out.put("dequant_gemm_load_check", c.asMap()));
            gpu.routerChoice().ifPresent(c -> out.put("router_load_check", c.asMap()));
            gpu.argmaxChoice().ifPresent(c -> out.put("argmax_load_check", c.asMap()));
            gpu.fusedQuantizeChoice().ifPresent(c -> out.put("fused_quantize_load_check", c.asMap()));
            DecodeAttentionKernel chosen = gpu.decodeAttention(), chosenMany = gpu.decodeAttentionMany();
            Random rnd = new Random(3);
            Map<Integer, Double> graphMs = new java.util.HashMap<>();
            for (int run = 0; run < 3; run++) {
                int batch = run == 2 ? 64 : 1;
                boolean graphs = run != 0;
                gpu.useGraphs(graphs);
                double seconds = decodeSeconds(gpu, scout, batch, maxBlocks, steps, rnd);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("context_positions", context);
                r.put("steps", steps);
                r.put("ms_per_step", seconds / steps * 1e3);
                r.put("tokens_per_second", batch * steps / seconds);
                r.put("cuda_graphs", graphs);
                r.put("decode_attention", chosen.name());
                r.put("decode_attention_from_" + CudaOps.MANY_DECODE_TOKENS + "_tokens", chosenMany.name());
                if (graphs) graphMs.put(batch, seconds / steps * 1e3);
                if (batch == 1 && spec != null) {
                    double roofline = spec.bandwidthGbs() * 1e9 / bytesPerStepBatch1;
                    r.put("roofline_tokens_per_second_spec_bandwidth", roofline);
                    r.put("fraction_of_roofline", (batch * steps / seconds) / roofline);
                }
                out.put("batch_" + batch + (graphs ? "" : "_without_graphs"), r);
            }
            // where a step's GPU time goes: eager steps with CUDA events between phases
            for (int batch : new int[] {1, 64}) {
                try (CudaPhaseTimer timer = new CudaPhaseTimer(device)) {
                    gpu.profilePhases(timer);
                    long launches0 = device.launchCount();
                    int profiled = Math.max(3, steps / 4);
                    double seconds;
                    try {
                        seconds = decodeSeconds(gpu, scout, batch, maxBlocks, profiled, rnd);
                    } finally {
                        gpu.profilePhases(null);
                    }
                    int rounds = timer.rounds();
                    Map<String, Object> phases = new LinkedHashMap<>();
                    double gpuMs = 0;
                    for (Map.Entry<String, CudaPhaseTimer.Phase> e : timer.totals().entrySet()) {
                        CudaPhaseTimer.Phase ph = e.getValue();
                        gpuMs += ph.millis() / rounds;
                        phases.put(e.getKey(), Map.of("ms_per_step", ph.millis() / rounds,
                                "kernel_launches_per_step", (double) ph.launches() / rounds));
                    }
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("decode_attention", chosen.name());
                    r.put("decode_attention_from_" + CudaOps.MANY_DECODE_TOKENS + "_tokens", chosenMany.name());
                    r.put("profiled_steps", rounds);
                    r.put("kernel_launches_per_step", (double) (device.launchCount() - launches0) / (profiled + 3));
                    r.put("gpu_ms_per_step_sum_of_phases", gpuMs);
                    r.put("wall_ms_per_step_eager_with_events", seconds / profiled * 1e3);
                    // graph step minus the eager phase sum; negative when the eager phases include host launch
                    // gaps (the GPU waiting for the next eager launch), which a graph replay does not have
                    r.put("graph_ms_per_step_minus_gpu_phases", graphMs.get(batch) - gpuMs);
                    r.put("phases", phases);
                    out.put("phases_batch_" + batch, r);
                }
            }
            // every kernel that passed the load-time check, batch 1 and 64 with graphs
            Map<String, Object> perKernel = new LinkedHashMap<>();
            gpu.useGraphs(true);
            for (Map.Entry<DecodeAttentionKernel, DecodeAttentionCheck.Candidate> e
                    : gpu.decodeAttentionChoice().candidates().entrySet()) {
                if (!e.getValue().pass()) continue;
                gpu.useDecodeAttention(e.getKey());
                Map<String, Object> r = new LinkedHashMap<>();
                for (int batch : new int[] {1, 64}) {
                    double seconds = decodeSeconds(gpu, scout, batch, maxBlocks, steps, rnd);
                    r.put("batch_" + batch + "_ms_per_step", seconds / steps * 1e3);
                    r.put("batch_" + batch + "_tokens_per_second", batch * steps / seconds);
                }
                perKernel.put(e.getKey().name(), r);
            }
            out.put("decode_attention_kernels_with_graphs", perKernel);
            gpu.useDecodeAttention(chosen, chosenMany);
            // the same with the row-per-warp int4 kernels, where the load-time check chose the tiled ones
            LinearKernelCheck.Result lin = gpu.linearKernelChoice().orElse(null);
            if (lin != null && (lin.useNarrow() || lin.useWide())) {
                gpu.useTiledInt4(false, false);
                Map<String, Object> r = new LinkedHashMap<>();
                for (int batch : new int[] {1, 64}) {
                    double seconds = decodeSeconds(gpu, scout, batch, maxBlocks, steps, rnd);
                    r.put("batch_" + batch + "_ms_per_step", seconds / steps * 1e3);
                    r.put("batch_" + batch + "_tokens_per_second", batch * steps / seconds);
                }
                r.put("decode_attention", chosen.name());
                r.put("decode_attention_from_" + CudaOps.MANY_DECODE_TOKENS + "_tokens", chosenMany.name());
                out.put("row_per_warp_int4_with_graphs", r);
                gpu.useTiledInt4(lin.useNarrow(), lin.useWide());
            }
            // batch 1 without the split-K one-row int4 kernel, where the load-time check chose it
            if (lin != null && lin.useSingleRow()) {
                Map<String, Object> r = new LinkedHashMap<>();
                for (int round = 0; round < 2; round++) {
                    for (boolean singleRow : new boolean[] {false, true}) {
                        gpu.useSingleRowInt4(singleRow);
                        double seconds = decodeSeconds(gpu, scout, 1, maxBlocks, steps, rnd);
                        r.put((singleRow ? "splitk_single" : "tiled") + "_batch_1_ms_per_step_round" + round,
                                seconds / steps * 1e3);
                    }
                }
                out.put("splitk_single_int4_with_graphs", r);
            }
            // the same with the shared expert in its own launches, where small steps run it in the grouped ones
            if (gpu.sharedExpertInGroups()) {
                gpu.useSharedExpertInGroups(false);
                Map<String, Object> r = new LinkedHashMap<>();
                for (int batch : new int[] {1, 4}) {
                    double seconds = decodeSeconds(gpu, scout, batch, maxBlocks, steps, rnd);
                    r.put("batch_" + batch + "_ms_per_step", seconds / steps * 1e3);
                    r.put("batch_" + batch + "_tokens_per_second", batch * steps / seconds);
                }
                gpu.useSharedExpertInGroups(true);
                for (int batch : new int[] {1, 4}) {
                    double seconds = decodeSeconds(gpu, scout, batch, maxBlocks, steps, rnd);
                    r.put("in_groups_batch_" + batch + "_ms_per_step", seconds / steps * 1e3);
                    r.put("in_groups_batch_" + batch + "_tokens_per_second", batch * steps / seconds);
                }
                out.put("shared_expert_separate_with_graphs", r);
            }
            // the same with the int8-activation GEMV kernels for every row count and the unfused router, where
            // the load-time checks chose the dequantize + cuBLAS path or the fused router
            int dqRows = gpu.dequantGemmMinRows();
            boolean fusedRouter = gpu.fusedRouter(), slicedArgmax = gpu.slicedArgmax(), fusedQuant = gpu.fusedQuantize();
            if (dqRows != Integer.MAX_VALUE || fusedRouter || slicedArgmax || fusedQuant) {
                gpu.useCheckedKernels(Integer.MAX_VALUE, false, false, false);
                Map<String, Object> r = new LinkedHashMap<>();
                for (int batch : new int[] {1, 64}) {
                    double seconds = decodeSeconds(gpu, scout, batch, maxBlocks, steps, rnd);
                    r.put("batch_" + batch + "_ms_per_step", seconds / steps * 1e3);
                    r.put("batch_" + batch + "_tokens_per_second", batch * steps / seconds);
                }
                r.put("decode_attention", chosen.name());
                r.put("decode_attention_from_" + CudaOps.MANY_DECODE_TOKENS + "_tokens", chosenMany.name());
                r.put("note", "int8-activation GEMV for every row count, unfused router, one-pass argmax, unfused "
                        + "norm/silu quantization");
                out.put("gemv_only_unfused_router_with_graphs", r);
                gpu.useCheckedKernels(dqRows, fusedRouter, slicedArgmax, fusedQuant);
            }
            // end to end: one batch-1 decode step's logits with each accepted kernel against the warp-per-head one
            gpu.useGraphs(false);
            int[] g = new int[maxBlocks];
            for (int b = 0; b < maxBlocks; b++) g[b] = b;
            // at the position after the benchmark steps, so the keys it attends to include the ones they wrote
            SequenceChunk probe = new SequenceChunk(new int[] {17}, context + steps + 3, new BlockTable(g, g.clone()), 1);
            gpu.useDecodeAttention(DecodeAttentionKernel.WARP_PER_HEAD);
            float[] reference = gpu.forward(List.of(probe)).getFirst();
            Map<String, Object> agreement = new LinkedHashMap<>();
            for (String kernelName : perKernel.keySet()) {
                DecodeAttentionKernel k = DecodeAttentionKernel.valueOf(kernelName);
                if (k == DecodeAttentionKernel.WARP_PER_HEAD) continue;
                gpu.useDecodeAttention(k);
                float[] logits = gpu.forward(List.of(probe)).getFirst();
                double maxRef = 0, maxDiff = 0;
                for (int i = 0; i < logits.length; i++) {
                    maxRef = Math.max(maxRef, Math.abs(reference[i]));
                    double diff = Math.abs((double) logits[i] - reference[i]);
                    maxDiff = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : Math.max(maxDiff, diff);
                }
                agreement.put(kernelName, Map.of("max_abs_logit_diff", maxDiff, "max_abs_logit", maxRef,
                        "same_argmax", argmax(logits) == argmax(reference)));
            }
            if (lin != null && (lin.useNarrow() || lin.useWide())) {
                // tiled int4 kernels against the row-per-warp ones, both with the warp-per-head attention
                gpu.useDecodeAttention(DecodeAttentionKernel.WARP_PER_HEAD);
                float[] tiledLogits = gpu.forward(List.of(probe)).getFirst();
                gpu.useTiledInt4(false, false);
                float[] rowLogits = gpu.forward(List.of(probe)).getFirst();
                gpu.useTiledInt4(lin.useNarrow(), lin.useWide());
                double maxDiff = 0;
                for (int i = 0; i < rowLogits.length; i++) {
                    double diff = Math.abs((double) tiledLogits[i] - rowLogits[i]);
                    maxDiff = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : Math.max(maxDiff, diff);
                }
                agreement.put("tiled_int4_vs_row_per_warp", Map.of("max_abs_logit_diff", maxDiff,
                        "same_argmax", argmax(tiledLogits) == argmax(rowLogits)));
            }
            {
                // a 64-sequence decode step (where the dequantize + cuBLAS path and the many-token attention kernel
                // run) and the batch-1 probe with every checked choice against the verified kernels only
                List<SequenceChunk> batch64 = new ArrayList<>();
                for (int sq = 0; sq < 64; sq++) {
                    int[] gs = new int[maxBlocks];
                    for (int b = 0; b < maxBlocks; b++) gs[b] = sq * maxBlocks + b;
                    batch64.add(new SequenceChunk(new int[] {17 + 31 * sq}, context + steps + 3,
                            new BlockTable(gs, gs.clone()), 1));
                }
                gpu.useDecodeAttention(chosen, chosenMany);
                List<float[]> checked64 = gpu.forward(batch64);
                float[] checked1 = gpu.forward(List.of(probe)).getFirst();
                boolean sharedInGroups = gpu.sharedExpertInGroups();
                gpu.useSharedExpertInGroups(false);
                gpu.useCheckedKernels(Integer.MAX_VALUE, false, false, false);
                gpu.useDecodeAttention(DecodeAttentionKernel.WARP_PER_HEAD);
                boolean tiledN = lin != null && lin.useNarrow(), tiledW = lin != null && lin.useWide();
                gpu.useTiledInt4(false, false);
                List<float[]> gemv64 = gpu.forward(batch64);
                float[] gemv1 = gpu.forward(List.of(probe)).getFirst();
                gpu.useTiledInt4(tiledN, tiledW);
                gpu.useDecodeAttention(chosen, chosenMany);
                gpu.useCheckedKernels(dqRows, fusedRouter, slicedArgmax, fusedQuant);
                gpu.useSharedExpertInGroups(sharedInGroups);
                double maxDiff = 0, maxRef = 0;
                int sameArgmax = 0;
                for (int sq = 0; sq < 64; sq++) {
                    float[] a = checked64.get(sq), b = gemv64.get(sq);
                    for (int i = 0; i < a.length; i++) {
                        maxRef = Math.max(maxRef, Math.abs(b[i]));
                        double diff = Math.abs((double) a[i] - b[i]);
                        maxDiff = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : Math.max(maxDiff, diff);
                    }
                    if (argmax(a) == argmax(b)) sameArgmax++;
                }
                agreement.put("batch64_checked_choices_vs_verified_kernels", Map.of("max_abs_logit_diff", maxDiff,
                        "max_abs_logit", maxRef, "sequences_with_same_argmax", sameArgmax + "/64",
                        "dequant_gemm_from_rows", dqRows == Integer.MAX_VALUE ? "never" : String.valueOf(dqRows),
                        "fused_router", fusedRouter, "sliced_argmax", slicedArgmax, "fused_quantize", fusedQuant,
                        "decode_attention_64_tokens", chosenMany.name()));
                double d1 = 0;
                for (int i = 0; i < gemv1.length; i++) {
                    double diff = Math.abs((double) checked1[i] - gemv1[i]);
                    d1 = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : Math.max(d1, diff);
                }
                agreement.put("batch1_checked_choices_vs_verified_kernels", Map.of("max_abs_logit_diff", d1,
                        "same_argmax", argmax(checked1) == argmax(gemv1), "decode_attention", chosen.name(),
                        "shared_expert_in_groups", sharedInGroups));
            }
            out.put("scout_logits_vs_warp_per_head", agreement);
            gpu.useDecodeAttention(chosen, chosenMany);
            gpu.useGraphs(true);
        }
        return out;
    }

    /** Seconds of {@code steps} greedy decode steps of {@code batch} sequences at context.. (after 3 warm-up steps). */
    private double decodeSeconds(CudaForwardPass gpu, Llama4Config scout, int batch, int maxBlocks, int nSteps,
                                 Random rnd) {
        List<BlockTable> tables = new ArrayList<>();
        for (int s = 0; s < batch; s++) {
            int[] g = new int[maxBlocks];
            for (int b = 0; b < maxBlocks; b++) g[b] = s * maxBlocks + b;
            tables.add(new BlockTable(g, g.clone()));
        }
        int[] tokens = new int[batch];
        for (int s = 0; s < batch; s++) tokens[s] = rnd.nextInt(scout.vocabSize());
        int warm = 3;
        long start = 0;
        for (int i = 0; i < warm + nSteps; i++) {
            if (i == warm) start = System.nanoTime();
            List<SequenceChunk> step = new ArrayList<>();
            for (int s = 0; s < batch; s++) {
                step.add(new SequenceChunk(new int[] {tokens[s]}, context + i, tables.get(s), 1));
            }
            tokens = gpu.forwardGreedy(step);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    static Map<String, Object> choiceReport(DecodeAttentionCheck.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chosen", r.chosen().name());
        m.put("chosen_from_" + CudaOps.MANY_DECODE_TOKENS + "_tokens", r.chosenMany().name());
        r.candidates().forEach((k, c) -> m.put(k.name(), Map.of("max_rel_error_vs_warp_per_head", c.maxAbsError(),
                "pass", c.pass(), "us_per_launch_batch1_2048_positions", c.microsPerLaunch(),
                "us_per_launch_" + DecodeAttentionCheck.MANY_TOKENS + "_tokens_512_plus_2048_positions",
                c.microsPerLaunchMany())));
        m.put("tolerance", DecodeAttentionCheck.TOLERANCE);
        return m;
    }

    /** Weight bytes one decode token reads at batch 1: attention, shared expert, one routed expert, router, lm_head. */
    static long activeBytesPerToken(Llama4Config c, CudaForwardPass.Options o) {
        long sum = 0;
        for (int i = 0; i < c.nLayers(); i++) sum += CudaForwardPass.layerMatrixBytes(c, o, i, c.nExpertsPerTok());
        return sum + DeviceMatrix.bytesFor(o.matrixFormat(), 1, c.vocabSize(), c.dModel(), o.quantGroupSize())
                + 2L * c.dModel();
    }

    private static double gib(long bytes) {
        return Math.round(bytes / (double) (1L << 30) * 1000) / 1000.0;
    }

    /** Published peak figures of known cards (dense BF16 tensor TFLOP/s, memory GB/s). */
    record Spec(double bf16Tflops, double bandwidthGbs) {
        static Spec of(String name) {
            String n = name.toUpperCase(java.util.Locale.ROOT);
            if (n.contains("H200")) return new Spec(989, 4800);
            if (n.contains("H100") && n.contains("PCIE")) return new Spec(756, 2000);
            if (n.contains("H100") && n.contains("NVL")) return new Spec(835, 3900);
            if (n.contains("H100")) return new Spec(989, 3350);
            if (n.contains("A100")) return new Spec(312, n.contains("80") ? 2039 : 1555);
            return null;
        }
    }
}
