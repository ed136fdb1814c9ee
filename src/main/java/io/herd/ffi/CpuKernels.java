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

    /** This build's kernels on this CPU, or the reason there are none. */
    public record Availability(Optional<CpuKernels> kernels, String description) {}

    private static final class Holder {
        static final Availability AVAILABILITY = probe();
    }

    private final MethodHandle quantizeActivations;
    private final MethodHandle q8Gemv;

    private CpuKernels(SymbolLookup lookup) {
        Linker.Option critical = Linker.Option.critical(true);
        Linker linker = Linker.nativeLinker();
        quantizeActivations = linker.downcallHandle(find(lookup, "herd_q8_quantize_activations"),
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, ADDRESS), critical);
        q8Gemv = linker.downcallHandle(find(lookup, "herd_q8_gemv"), FunctionDescriptor.ofVoid(
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG), critical);
    }

    /** Whether the kernels run in this process, and which ones or why not (for logs and bench reports). */
    public static Availability availability() {
        return Holder.AVAILABILITY;
    }

    /** The kernels, when this build has them, this CPU runs them and they are not switched off. */
    public static Optional<CpuKernels> get() {
        return Holder.AVAILABILITY.kernels();
    }

    private static Availability probe() {
        String setting = System.getProperty(ENABLED_PROPERTY, System.getenv(ENABLED_ENV));
        if (setting != null && setting.equalsIgnoreCase("false"))
            return none("switched off (" + ENABLED_PROPERTY + "=false or " + ENABLED_ENV + "=false)");
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64")))
            return none("built for x86-64 Linux only, this is " + os + "/" + arch);
        URL url = CpuKernels.class.getResource(RESOURCE);
        if (url == null) return none(RESOURCE + " is not in this build (it ran without a C compiler)");
        try {
            Path library = libraryFile(url);
            SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
            int features = (int) Linker.nativeLinker()
                    .downcallHandle(find(lookup, "herd_cpu_features"), FunctionDescriptor.of(JAVA_INT))
                    .invokeExact();
            if ((features & FEATURE_Q8_GEMV) == 0)
                return none("this CPU lacks AVX-512 VNNI (the int8 kernels need avx512f, bw, vl and vnni)");
            return new Availability(Optional.of(new CpuKernels(lookup)),
                    "native (libherd_cpu.so: AVX-512 VNNI int8 GEMV with prefetch)");
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
}
