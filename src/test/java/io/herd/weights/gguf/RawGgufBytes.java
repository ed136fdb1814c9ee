package io.herd.weights.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Little-endian bytes written field by field, to craft GGUF headers (valid or hostile) the writer would never make. */
final class RawGgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    RawGgufBytes u8(int v) { out.write(v); return this; }

    RawGgufBytes u16(int v) { return u8(v & 0xff).u8((v >> 8) & 0xff); }

    RawGgufBytes u32(long v) {
        for (int i = 0; i < 4; i++) out.write((int) (v >>> (8 * i)) & 0xff);
        return this;
    }

    RawGgufBytes u64(long v) {
        for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)) & 0xff);
        return this;
    }

    RawGgufBytes f32(float v) { return u32(Float.floatToRawIntBits(v)); }

    RawGgufBytes f64(double v) { return u64(Double.doubleToRawLongBits(v)); }

    RawGgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    RawGgufBytes bytes(byte[] b) { out.write(b, 0, b.length); return this; }

    /** Magic, version 3, counts. */
    RawGgufBytes header(long nTensors, long nKv) {
        return u32(0x46554747).u32(3).u64(nTensors).u64(nKv);
    }

    /** Zero bytes up to a multiple of {@code alignment}. */
    RawGgufBytes align(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
        return this;
    }

    int size() { return out.size(); }

    byte[] toByteArray() { return out.toByteArray(); }

    static float readF32(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getFloat(off);
    }
}
