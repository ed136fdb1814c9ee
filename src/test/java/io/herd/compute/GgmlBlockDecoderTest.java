package io.herd.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Dequantization of every block format Herd reads, bit for bit against llama.cpp's C code (blocks its quantizers made,
 * values its dequantization gave: {@code ggml-blocks/llamacpp_vectors.c}) and against its Python package (gguf-py's
 * {@code gguf.quants.dequantize}) on seeded random blocks ({@code ggml-blocks/make_vectors.py}), plus hand-packed blocks that pin the layouts down by values
 * written out here.
 */
class GgmlBlockDecoderTest {
    private static final JsonNode VECTORS = load("dequant-vectors.json");
    private static final JsonNode LLAMA_CPP = load("llamacpp-vectors.json");

    private static JsonNode load(String name) {
        try (InputStream in = GgmlBlockDecoderTest.class.getResourceAsStream("/ggml-blocks/" + name)) {
            assertNotNull(in, "test resource ggml-blocks/" + name + " is missing");
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void matchesGgufPyBitForBit(GgmlType type) {
        check(type, VECTORS.get("types").get(type.name()));
    }

    /**
     * Blocks quantized by llama.cpp's C code (ggml_quantize_chunk, its reference quantizers) and the values its own
     * dequantization (type_traits to_float) gave for them ({@code ggml-blocks/llamacpp_vectors.c}).
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void matchesLlamaCppBitForBit(GgmlType type) {
        String name = type.name().toLowerCase(java.util.Locale.ROOT).replace("_k", "_K");
        check(type, LLAMA_CPP.get("types").get(name));
    }

    private static void check(GgmlType type, JsonNode v) {
        assertNotNull(v, "no vectors for " + type);
        byte[] blocks = HexFormat.of().parseHex(v.get("bytes").asText());
        ByteBuffer expected = ByteBuffer.wrap(HexFormat.of().parseHex(v.get("float32le").asText())).order(ByteOrder.LITTLE_ENDIAN);
        int nBlocks = v.get("blocks").asInt();
        assertEquals(nBlocks * type.blockBytes, blocks.length);
        float[] out = new float[nBlocks * type.blockSize];
        GgmlBlockDecoder.decode(type, MemorySegment.ofArray(blocks), 0, nBlocks, out, 0);
        for (int i = 0; i < out.length; i++) {
            int want = Float.floatToRawIntBits(expected.getFloat(4 * i));
            int at = i;
            assertEquals(want, Float.floatToRawIntBits(out[i]), () -> type + " value " + at + " differs");
        }
        // Block by block from an offset gives the same values.
        float[] one = new float[type.blockSize];
        GgmlBlockDecoder.decode(type, MemorySegment.ofArray(blocks), (long) (nBlocks - 1) * type.blockBytes, 1, one, 0);
        for (int i = 0; i < one.length; i++) assertEquals(out[(nBlocks - 1) * type.blockSize + i], one[i]);
    }

    /** Q4_0 packed by hand: d = 0.5, value j has q = j % 16, so x = 0.5 · (q − 8); values 16–31 in the high nibbles. */
    @Test
    void q4_0LayoutByHand() {
        byte[] block = new byte[18];
        short half = Float.floatToFloat16(0.5f);
        block[0] = (byte) half;
        block[1] = (byte) (half >> 8);
        for (int j = 0; j < 16; j++) block[2 + j] = (byte) ((j % 16) | ((15 - j) << 4));
        float[] out = new float[32];
        GgmlBlockDecoder.decode(GgmlType.Q4_0, MemorySegment.ofArray(block), 0, 1, out, 0);
        for (int j = 0; j < 16; j++) {
            assertEquals(0.5f * (j - 8), out[j]);
            assertEquals(0.5f * (15 - j - 8), out[16 + j]);
        }
    }

    /**
     * Q6_K packed by hand: d = 1, scale of sub-block s = s + 1, every q = 33 (stored 6-bit 33: low nibble 1, high
     * bits 2), so value i = (i / 16 + 1) · (33 − 32).
     */
    @Test
    void q6_kLayoutByHand() {
        byte[] block = new byte[210];
        for (int i = 0; i < 128; i++) block[i] = 0x11;              // both nibbles 1
        for (int i = 0; i < 64; i++) block[128 + i] = (byte) 0xAA;  // four 2-bit high parts, each 2
        for (int s = 0; s < 16; s++) block[192 + s] = (byte) (s + 1);
        short one = Float.floatToFloat16(1f);
        block[208] = (byte) one;
        block[209] = (byte) (one >> 8);
        float[] out = new float[256];
        GgmlBlockDecoder.decode(GgmlType.Q6_K, MemorySegment.ofArray(block), 0, 1, out, 0);
        for (int i = 0; i < 256; i++) assertEquals(i / 16 + 1, out[i], "value " + i);
    }

    @Test
    void refusesTypesWithoutDecoder() {
        assertThrows(IllegalArgumentException.class,
                () -> GgmlBlockDecoder.decode(GgmlType.Q2_K, MemorySegment.ofArray(new byte[84]), 0, 1, new float[256], 0));
    }
}
