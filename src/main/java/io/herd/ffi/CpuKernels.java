package io.herd.ffi;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Herd's CPU kernels (src/native/cpu/herd_cpu.c), built into {@value #RESOURCE} where the build had a C compiler.
 * They do what the Vector API cannot: int8·int16 dot products (AVX-512 VNNI) and software prefetch. The calls are
 * critical downcalls that read and write Java arrays in place; each runs for at most a few milliseconds (one task of
 * a matmul), which is as long as it holds off a garbage collection.
 *
 * <p>Everything is checked here before the native code runs, which checks nothing.
 */
public final class CpuKernels {
    /** Classpath location of the library that the Maven build writes. */
    public static final String RESOURCE = "/native/linux-x86_64/libherd_cpu.so";
    /** System property: {@code false} keeps the Vector API kernels even where these would run. */
    public static final String ENABLED_PROPERTY = "herd.cpu.native-kernels";
    /** Environment variable with the same meaning, read when the property is not set. */
    public static final String ENABLED_ENV = "HERD_CPU_NATIVE_KERNELS";

    /** Activations are quantized in runs of this many values, one scale each. */
    public static final int ACTIVATION_GROUP = 32;

    private static final int FEATURE_Q8_GEMV = 1;
    private static final int FEATURE_BF16_GEMV = 2;

    /** This build's kernels on this CPU, or the reason there are none. */
    public record Availability(Optional<CpuKernels> kernels, String description) {}

    private static final class Holder {
        static final Availability AVAILABILITY = probe();
    }

    private final int features;
    private final MethodHandle quantizeActivations;
    private final MethodHandle q8Gemv;
    private final MethodHandle bf16Gemv;
    private final MethodHandle bf16Axpy;
    private final MethodHandle bf16RowsTokens;
    private final MethodHandle q8RowsTokens;
    private final MethodHandle bf16AxpyTokens;
    private final MethodHandle transposeTokens;
    private final MethodHandle gemmTokens;

    /** Weight layouts of {@link #gemmTokens}. */
    public enum GemmFormat { BF16_ROWS, Q8_ROWS, BF16_INPUT_MAJOR }

    private CpuKernels(SymbolLookup lookup, int features) {
        this.features = features;
        Linker.Option critical = Linker.Option.critical(true);
        Linker linker = Linker.nativeLinker();
        quantizeActivations = linker.downcallHandle(find(lookup, "herd_q8_quantize_activations"),
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, ADDRESS), critical);
        q8Gemv = linker.downcallHandle(find(lookup, "herd_q8_gemv"), FunctionDescriptor.ofVoid(
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG), critical);
        bf16Gemv = linker.downcallHandle(find(lookup, "herd_bf16_gemv"), FunctionDescriptor.ofVoid(
                ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG), critical);
        bf16Axpy = linker.downcallHandle(find(lookup, "herd_bf16_axpy"), FunctionDescriptor.ofVoid(
                ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS), critical);
        bf16RowsTokens = linker.downcallHandle(find(lookup, "herd_bf16_rows_tokens"), FunctionDescriptor.ofVoid(
                ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG), critical);
        q8RowsTokens = linker.downcallHandle(find(lookup, "herd_q8_rows_tokens"), FunctionDescriptor.ofVoid(
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG), critical);
        bf16AxpyTokens = linker.downcallHandle(find(lookup, "herd_bf16_axpy_tokens"), FunctionDescriptor.ofVoid(
                ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS), critical);
        transposeTokens = linker.downcallHandle(find(lookup, "herd_transpose_tokens"), FunctionDescriptor.ofVoid(
                ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), critical);
        gemmTokens = linker.downcallHandle(find(lookup, "herd_gemm_tokens"), FunctionDescriptor.of(JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS,
                JAVA_LONG, JAVA_LONG), critical);
    }

    /** Whether this CPU runs {@link #q8Gemv} (AVX-512 VNNI). */
    public boolean q8() { return (features & FEATURE_Q8_GEMV) != 0; }

    /** Whether this CPU runs {@link #bf16Gemv} and {@link #bf16Axpy} (AVX-512). */
    public boolean bf16() { return (features & FEATURE_BF16_GEMV) != 0; }

    /** Whether the kernels run in this process, and which ones or why not (for logs and bench reports). */
    public static Availability availability() {
        return Holder.AVAILABILITY;
    }

    /** The kernels, when this build has them, this CPU runs them and they are not switched off. */
    public static Optional<CpuKernels> get() {
        return Holder.AVAILABILITY.kernels();
    }

    /** The kernels when they include the Q8 GEMV. */
    public static Optional<CpuKernels> forQ8() {
        return get().filter(CpuKernels::q8);
    }

    /** The kernels when they include the BF16 GEMVs. */
    public static Optional<CpuKernels> forBf16() {
        return get().filter(CpuKernels::bf16);
    }

    private static Availability probe() {
        return probe(System.getProperty(ENABLED_PROPERTY, System.getenv(ENABLED_ENV)), System.getProperty("os.name", ""),
                System.getProperty("os.arch", ""), CpuKernels.class.getResource(RESOURCE));
    }

    /** What {@link #availability} finds for this setting, platform and library resource (null: not in the build). */
    static Availability probe(String setting, String osName, String arch, URL library) {
        if (setting != null && setting.equalsIgnoreCase("false"))
            return none("switched off (" + ENABLED_PROPERTY + "=false or " + ENABLED_ENV + "=false)");
        String os = osName.toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64")))
            return none("built for x86-64 Linux only, this is " + os + "/" + arch);
        if (library == null) return none(RESOURCE + " is not in this build (it ran without a C compiler)");
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(libraryFile(library), Arena.global());
            int features = (int) Linker.nativeLinker()
                    .downcallHandle(find(lookup, "herd_cpu_features"), FunctionDescriptor.of(JAVA_INT))
                    .invokeExact();
            if (features == 0) return none("this CPU lacks AVX-512 (the kernels need avx512f, bw and vl)");
            return new Availability(Optional.of(new CpuKernels(lookup, features)), "native (libherd_cpu.so: "
                    + ((features & FEATURE_Q8_GEMV) != 0 ? "Q8 GEMV in AVX-512 VNNI" : "no Q8 GEMV: no AVX-512 VNNI")
                    + ", BF16 GEMV, prefetching)");
        } catch (Throwable t) {
            return none("libherd_cpu.so did not load: " + t);
        }
    }

    private static Availability none(String why) {
        return new Availability(Optional.empty(), "Vector API (native kernels unavailable: " + why + ")");
    }

    /** The library as a file: straight from the classes directory, else copied out of the jar once. */
    private static Path libraryFile(URL url) throws IOException, URISyntaxException {
        if (url.getProtocol().equals("file")) return Path.of(url.toURI());
        Path file = Files.createTempFile("libherd_cpu", ".so");
        file.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("symbol " + name + " not in libherd_cpu.so"));
    }

    /** Whether {@link #q8Gemv} takes rows of {@code nIn} values in groups of {@code groupSize}. */
    public static boolean q8GemvSuits(int nIn, int groupSize) {
        return nIn % ACTIVATION_GROUP == 0 && groupSize % ACTIVATION_GROUP == 0 && nIn <= 1 << 17;
    }

    /** Scales one quantized activation vector of {@code nIn} values needs. */
    public static int activationScales(int nIn) {
        return nIn / ACTIVATION_GROUP;
    }

    /**
     * x[0, n) as int16 with one fp32 scale per {@value #ACTIVATION_GROUP} values: xq · xs[i / 32] is x[i] within 1/65534
     * of its run's largest magnitude. A run holding NaN or an infinity gets a NaN scale.
     */
    public void quantizeActivations(float[] x, int n, short[] xq, float[] xs) {
        if (n % ACTIVATION_GROUP != 0 || n > x.length || n > xq.length || n / ACTIVATION_GROUP > xs.length)
            throw new IllegalArgumentException("quantize " + n + " values: x " + x.length + ", xq " + xq.length
                    + ", xs " + xs.length);
        try {
            quantizeActivations.invokeExact(MemorySegment.ofArray(x), n, MemorySegment.ofArray(xq), MemorySegment.ofArray(xs));
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * y[o] = Σ_i values[o, i] · fp16 scales[o, i / groupSize] · x[i] for o in [o0, o1), with x as
     * {@link #quantizeActivations} left it in xq and xs. values is int8 [nOut, nIn] row-major; scales is fp16
     * [nOut, ⌈nIn / groupSize⌉].
     */
    public void q8Gemv(MemorySegment values, MemorySegment scales, int nIn, int groupSize, short[] xq, float[] xs,
                       float[] y, int o0, int o1) {
        if (!q8()) throw new IllegalStateException("this CPU has no Q8 kernel (no AVX-512 VNNI)");
        if (!q8GemvSuits(nIn, groupSize)) throw new IllegalArgumentException("q8 GEMV of " + nIn + " inputs, group " + groupSize);
        int nGroups = (nIn + groupSize - 1) / groupSize;
        if (o0 < 0 || o1 < o0 || o1 > y.length || values.byteSize() < (long) o1 * nIn
                || scales.byteSize() < 2L * o1 * nGroups || xq.length < nIn || xs.length < nIn / ACTIVATION_GROUP)
            throw new IllegalArgumentException("q8 GEMV rows [" + o0 + ", " + o1 + ") of " + nIn + " inputs: values "
                    + values.byteSize() + " bytes, scales " + scales.byteSize() + ", y " + y.length + ", xq " + xq.length);
        if (o0 == o1) return;
        try {
            q8Gemv.invokeExact(values, scales, nIn, groupSize, MemorySegment.ofArray(xq), MemorySegment.ofArray(xs),
                    MemorySegment.ofArray(y), (long) o0, (long) o1);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * Row-major BF16 [nOut, nIn]: y[o] = Σ_i w[o, i] · x[i] for o in [o0, o1), with x split into its even inputs then
     * its odd ones ({@code xPairs}, nIn floats). nIn is a multiple of 32.
     */
    public void bf16Gemv(MemorySegment w, int nIn, float[] xPairs, float[] y, int o0, int o1) {
        if (!bf16()) throw new IllegalStateException("this CPU has no BF16 kernels");
        if (nIn % 32 != 0 || o0 < 0 || o1 < o0 || o1 > y.length || xPairs.length < nIn || w.byteSize() < 2L * o1 * nIn)
            throw new IllegalArgumentException("bf16 GEMV rows [" + o0 + ", " + o1 + ") of " + nIn + " inputs: weights "
                    + w.byteSize() + " bytes, y " + y.length + ", x " + xPairs.length);
        if (o0 == o1) return;
        try {
            bf16Gemv.invokeExact(w, nIn, MemorySegment.ofArray(xPairs), MemorySegment.ofArray(y), (long) o0, (long) o1);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * Input-major BF16 [nIn, nOut]: acc[accOffset + o] += Σ_i x[i] · w[i, o] over stored rows i in [i0, i1) and every
     * output o.
     */
    public void bf16Axpy(MemorySegment w, int nOut, float[] x, int i0, int i1, float[] acc, int accOffset) {
        if (!bf16()) throw new IllegalStateException("this CPU has no BF16 kernels");
        if (i0 < 0 || i1 < i0 || i1 > x.length || accOffset < 0 || accOffset + (long) nOut > acc.length
                || w.byteSize() < 2L * i1 * nOut)
            throw new IllegalArgumentException("bf16 rows [" + i0 + ", " + i1 + ") of " + nOut + " outputs: weights "
                    + w.byteSize() + " bytes, x " + x.length + ", acc " + acc.length + " from " + accOffset);
        if (i0 == i1) return;
        try {
            bf16Axpy.invokeExact(w, (long) nOut, MemorySegment.ofArray(x), (long) i0, (long) i1,
                    MemorySegment.ofArray(acc).asSlice(4L * accOffset));
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * Row-major BF16 [nOut, nIn] for nTokens tokens: y[t · nOut + o] = Σ_i w[o, i] · x[t · nIn + i] for o in [o0, o1).
     * {@code xPairs} holds each token's x split as for {@link #bf16Gemv} (token t at t · nIn). nIn is a multiple of 32.
     */
    public void bf16RowsTokens(MemorySegment w, int nOut, int nIn, float[] xPairs, int nTokens, float[] y, int o0, int o1) {
        if (!bf16()) throw new IllegalStateException("this CPU has no BF16 kernels");
        if (nIn % 32 != 0 || nTokens < 1 || o0 < 0 || o1 < o0 || o1 > nOut || (long) nTokens * nOut > y.length
                || (long) nTokens * nIn > xPairs.length || w.byteSize() < 2L * nOut * nIn)
            throw new IllegalArgumentException("bf16 rows [" + o0 + ", " + o1 + ") of [" + nOut + ", " + nIn + "] × "
                    + nTokens + " tokens: weights " + w.byteSize() + " bytes, x " + xPairs.length + ", y " + y.length);
        if (o0 == o1) return;
        try {
            bf16RowsTokens.invokeExact(w, nIn, MemorySegment.ofArray(xPairs), nTokens, MemorySegment.ofArray(y),
                    (long) nOut, (long) o0, (long) o1);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * Q8 [nOut, nIn] (as for {@link #q8Gemv}) for nTokens fp32 tokens: y[t · nOut + o] = Σ_i w[o, i] · x[t · nIn + i]
     * for o in [o0, o1).
     */
    public void q8RowsTokens(MemorySegment values, MemorySegment scales, int nOut, int nIn, int groupSize, float[] x,
                             int nTokens, float[] y, int o0, int o1) {
        if (!q8()) throw new IllegalStateException("this CPU has no Q8 kernel (no AVX-512 VNNI)");
        if (!q8GemvSuits(nIn, groupSize)) throw new IllegalArgumentException("q8 rows of " + nIn + " inputs, group " + groupSize);
        int nGroups = (nIn + groupSize - 1) / groupSize;
        if (nTokens < 1 || o0 < 0 || o1 < o0 || o1 > nOut || (long) nTokens * nOut > y.length
                || (long) nTokens * nIn > x.length || values.byteSize() < (long) nOut * nIn
                || scales.byteSize() < 2L * nOut * nGroups)
            throw new IllegalArgumentException("q8 rows [" + o0 + ", " + o1 + ") of [" + nOut + ", " + nIn + "] × "
                    + nTokens + " tokens: values " + values.byteSize() + " bytes, x " + x.length + ", y " + y.length);
        if (o0 == o1) return;
        try {
            q8RowsTokens.invokeExact(values, scales, nIn, groupSize, MemorySegment.ofArray(x), nTokens,
                    MemorySegment.ofArray(y), (long) nOut, (long) o0, (long) o1);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * Input-major BF16 [nIn, nOut] for nTokens tokens: acc[accOffset + t · nOut + o] += Σ_i x[t · nIn + i] · w[i, o]
     * over stored rows i in [i0, i1) and every output o.
     */
    public void bf16AxpyTokens(MemorySegment w, int nOut, int nIn, float[] x, int nTokens, int i0, int i1, float[] acc,
                               int accOffset) {
        if (!bf16()) throw new IllegalStateException("this CPU has no BF16 kernels");
        if (nTokens < 1 || i0 < 0 || i1 < i0 || i1 > nIn || (long) nTokens * nIn > x.length || accOffset < 0
                || accOffset + (long) nTokens * nOut > acc.length || w.byteSize() < 2L * nIn * nOut)
            throw new IllegalArgumentException("bf16 rows [" + i0 + ", " + i1 + ") of [" + nIn + ", " + nOut + "] × "
                    + nTokens + " tokens: weights " + w.byteSize() + " bytes, x " + x.length + ", acc " + acc.length
                    + " from " + accOffset);
        if (i0 == i1) return;
        try {
            bf16AxpyTokens.invokeExact(w, (long) nOut, MemorySegment.ofArray(x), nIn, nTokens, (long) i0, (long) i1,
                    MemorySegment.ofArray(acc).asSlice(4L * accOffset));
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /** Token columns {@link #gemmTokens} takes x in: the token count rounded up to whole vectors. */
    public static int paddedTokens(int nTokens) {
        return (nTokens + 15) / 16 * 16;
    }

    /** xt[i · tPad + t] = x[t · nIn + i], zero for t ≥ nTokens: the layout {@link #gemmTokens} reads. */
    public void transposeTokens(float[] x, int nTokens, int nIn, float[] xt, int tPad) {
        if (!bf16()) throw new IllegalStateException("this CPU has no AVX-512 kernels");
        if (nTokens < 1 || tPad < nTokens || tPad % 16 != 0 || (long) nTokens * nIn > x.length || (long) tPad * nIn > xt.length)
            throw new IllegalArgumentException("transpose " + nTokens + " tokens of " + nIn + " into " + tPad
                    + " columns: x " + x.length + ", xt " + xt.length);
        try {
            transposeTokens.invokeExact(MemorySegment.ofArray(x), nTokens, nIn, MemorySegment.ofArray(xt), tPad);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
    }

    /**
     * Many tokens: y[t · nOut + o] = Σ_i w[o, i] · x[t · nIn + i] for o in [o0, o1), with x as {@link #transposeTokens}
     * left it in xt. {@code scales} and {@code groupSize} are Q8's (null and 0 otherwise); w is [nOut, nIn] but for
     * {@link GemmFormat#BF16_INPUT_MAJOR}, [nIn, nOut].
     */
    public void gemmTokens(GemmFormat format, MemorySegment w, MemorySegment scales, int nOut, int nIn, int groupSize,
                           float[] xt, int tPad, int nTokens, float[] y, int o0, int o1) {
        boolean q8 = format == GemmFormat.Q8_ROWS;
        if (q8 ? !q8() : !bf16()) throw new IllegalStateException("this CPU has no " + format + " kernel");
        long weightBytes = q8 ? (long) nOut * nIn : 2L * nOut * nIn;
        if ((q8 && (!q8GemvSuits(nIn, groupSize) || scales == null
                || scales.byteSize() < 2L * nOut * ((nIn + groupSize - 1) / groupSize)))
                || nTokens < 1 || tPad < nTokens || tPad % 16 != 0 || (long) tPad * nIn > xt.length
                || (long) nTokens * nOut > y.length || o0 < 0 || o1 < o0 || o1 > nOut || w.byteSize() < weightBytes)
            throw new IllegalArgumentException(format + " rows [" + o0 + ", " + o1 + ") of " + nOut + "x" + nIn + " × "
                    + nTokens + " tokens (" + tPad + " columns): weights " + w.byteSize() + " bytes, xt " + xt.length
                    + ", y " + y.length);
        if (o0 == o1) return;
        int status;
        MemorySegment groupScales = q8 ? scales : MemorySegment.NULL; // typed: invokeExact matches static types
        try {
            status = (int) gemmTokens.invokeExact(format.ordinal(), w, groupScales, (long) nOut,
                    nIn, q8 ? groupSize : 0, MemorySegment.ofArray(xt), tPad, nTokens, MemorySegment.ofArray(y),
                    (long) o0, (long) o1);
        } catch (Throwable t) {
            throw Ffi.rethrow(t);
        }
        if (status != 0) throw new OutOfMemoryError("herd_gemm_tokens: no memory for its " + (o1 - o0) + " x " + tPad + " partial sums");
    }
}
