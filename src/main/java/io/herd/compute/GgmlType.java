package io.herd.compute;

/**
 * The ggml tensor types, with their GGUF type ids and block geometry (ggml.h's {@code ggml_type}): a block of
 * {@code blockSize} consecutive elements along the innermost axis takes {@code blockBytes} bytes. Every type a GGUF
 * file may hold is listed, so a reader can check the size of each tensor even where Herd cannot compute with it;
 * {@link #decodable()} says which ones Herd turns into numbers.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** 32 4-bit values after one f16 scale d: x = d · (q − 8). */
    Q4_0(2, 32, 18),
    /** 32 4-bit values after f16 d and m: x = d · q + m. */
    Q4_1(3, 32, 20),
    /** 32 5-bit values: f16 d, 32 high bits, 16 bytes of low nibbles: x = d · (q − 16). */
    Q5_0(6, 32, 22),
    /** As Q5_0 with an f16 offset m: x = d · q + m. */
    Q5_1(7, 32, 24),
    /** 32 int8 values after one f16 scale d: x ≈ d · q. */
    Q8_0(8, 32, 34),
    /** As Q8_0 plus an f16 d·Σq (activation format of llama.cpp's Q4_1/Q5_1 dot products). */
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    /** 256 4-bit values in 8 sub-blocks of 32, each with a 6-bit scale and min under f16 d and dmin. */
    Q4_K(12, 256, 144),
    /** As Q4_K with a fifth bit per value in 32 bytes of high bits. */
    Q5_K(13, 256, 176),
    /** 256 6-bit values in 16 sub-blocks of 16, each with an int8 scale under one f16 d: x = d · s · (q − 32). */
    Q6_K(14, 256, 210),
    /** fp32 d, 256 int8 values, 16 int16 sums (activation format of llama.cpp's K-quant dot products). */
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17);

    public final int id;
    public final int blockSize;
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Whether Herd decodes this type to numbers (dequantizes it): the float types and the block formats it has kernels for. */
    public boolean decodable() {
        return switch (this) {
            case F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
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
        return Math.multiplyExact(n / blockSize, (long) blockBytes);
    }

    /** Bytes of one row of {@code n} elements (n a multiple of the block size). */
    public long rowBytes(long n) {
        if (n % blockSize != 0)
            throw new IllegalArgumentException(this + " rows must be a multiple of " + blockSize + " elements, got " + n);
        return n / blockSize * blockBytes;
    }

    public static GgmlType ofId(int id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        throw new IllegalArgumentException("unknown ggml type id " + id);
    }
}
