package io.herd.weights.gguf;

/** GGUF metadata value types (gguf.h's {@code gguf_type}) with the bytes one scalar takes (strings: at least their length). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** Smallest encoding of one value: bounds how many elements an array of this type can hold in the bytes left. */
    final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    static GgufValueType ofId(int id) {
        for (GgufValueType t : values()) if (t.id == id) return t;
        return null;
    }
}
