package io.herd.weights;

import io.herd.compute.DType;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a memory-mapped checkpoint: a read-only {@link MemorySegment} slice of the file (no copy), row-major
 * (last axis contiguous), little-endian, in the checkpoint's dtype. Valid until its checkpoint is closed.
 *
 * @param name  checkpoint tensor name
 * @param file  the file that holds it (for error messages)
 * @param dtype storage dtype
 * @param shape PyTorch shape, outermost first
 * @param data  exactly {@code elementCount() * dtype.bytes} bytes
 */
public record TensorView(String name, Path file, DType dtype, long[] shape, MemorySegment data) {

    public int rank() { return shape.length; }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Throws {@link CheckpointFormatException} naming file and tensor unless the shape is exactly {@code expected}. */
    public TensorView requireShape(long... expected) {
        if (!Arrays.equals(shape, expected))
            throw new CheckpointFormatException(file + ": tensor " + name + " has shape " + Arrays.toString(shape)
                    + ", expected " + Arrays.toString(expected));
        return this;
    }

    /** Throws unless the dtype is one of {@code allowed}. */
    public TensorView requireDtype(DType... allowed) {
        for (DType d : allowed) if (d == dtype) return this;
        throw new CheckpointFormatException(file + ": tensor " + name + " has dtype " + dtype + ", expected one of "
                + Arrays.toString(allowed));
    }

    /** Element i as fp32 (slow path for small tensors such as norm gains). */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(Layouts.F32, i);
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(Layouts.I16, i) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.getAtIndex(Layouts.I16, i));
            case Q8, GGML_BLOCKS -> throw new IllegalStateException("Q8 tensors are never stored in safetensors");
        };
    }

    /** A heap copy upcast to fp32; only for small tensors (norm gains), never for matrices. */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE) throw new IllegalStateException(name + " too large to copy: " + n);
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " in " + file;
    }

    /** Unaligned little-endian layouts (safetensors gives no alignment guarantee). */
    static final class Layouts {
        static final java.lang.foreign.ValueLayout.OfFloat F32 =
                java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        static final java.lang.foreign.ValueLayout.OfShort I16 =
                java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        private Layouts() {}
    }
}
