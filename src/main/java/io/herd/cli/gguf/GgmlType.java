package io.herd.cli.gguf;

/**
 * The ggml tensor types this writer emits, with their GGUF type ids and block geometry (ggml.h's {@code ggml_type}):
 * a block of {@code blockSize} consecutive elements along the innermost axis takes {@code blockBytes} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** 32 int8 values after one f16 scale d: x ≈ d · q. */
    Q8_0(8, 32, 34),
    BF16(30, 1, 2);

    public final int id;
    public final int blockSize;
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes of a tensor of dims {@code ne} (innermost first); the innermost dim must be whole blocks. */
    public long bytes(long[] ne) {
        if (ne.length == 0) throw new IllegalArgumentException("a tensor needs at least one dimension");
        if (ne[0] % blockSize != 0)
            throw new IllegalArgumentException(this + " needs the innermost dim to be a multiple of " + blockSize + ", got " + ne[0]);
        long n = 1;
        for (long d : ne) {
            if (d <= 0) throw new IllegalArgumentException("dims must be positive, got " + d);
            n = Math.multiplyExact(n, d);
        }
        return n / blockSize * blockBytes;
    }

    public static GgmlType ofId(int id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        throw new IllegalArgumentException("unsupported ggml type id " + id);
    }
}
