package io.herd.weights.gguf;

import io.herd.compute.GgmlBlockDecoder;
import io.herd.compute.GgmlType;
import io.herd.weights.CheckpointFormatException;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a memory-mapped GGUF file: a read-only slice of the mapping (no copy), in ggml's layout. Dims are
 * innermost first ({@code ne[0]} contiguous), so a PyTorch [out, in] Linear is ne {in, out} with the same bytes.
 * Valid until its checkpoint is closed.
 */
public record GgufTensor(String name, Path file, GgmlType type, long[] ne, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : ne) n *= d;
        return n;
    }

    /** Throws naming file and tensor unless the dims are exactly {@code expected} (innermost first). */
    public GgufTensor requireDims(long... expected) {
        if (!Arrays.equals(ne, expected))
            throw new CheckpointFormatException(file + ": tensor " + name + " has dims " + Arrays.toString(ne)
                    + " (innermost first), expected " + Arrays.toString(expected));
        return this;
    }

    /** Throws unless Herd can decode this tensor's type. */
    public GgufTensor requireDecodable() {
        if (!type.decodable())
            throw new CheckpointFormatException(file + ": tensor " + name + " is " + type
                    + ", which Herd does not read (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K)");
        return this;
    }

    /** A heap copy as fp32; only for small tensors (norm gains, RoPE divisors), never for matrices. */
    public float[] toFloatArray() {
        requireDecodable();
        long n = elementCount();
        if (n > 1 << 24) throw new IllegalStateException(name + " is too large to copy onto the heap: " + n);
        float[] out = new float[(int) n];
        GgmlBlockDecoder.decode(type, data, 0, (int) (n / type.blockSize), out, 0);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(ne) + " in " + file;
    }
}
