package io.herd.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Lossless WebP files written by libwebp (through Pillow: gradients, alpha, palettes of 2 to 100 colours, a larger
 * mixed image with repeats and noise; webp/expected.json holds the SHA-256 of libwebp's own decoded RGBA bytes):
 * every pixel equal. Lossy, animated, truncated and oversized files are refused with their codes.
 */
class WebpDecoderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = WebpDecoderTest.class.getResourceAsStream("/webp/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void everyPixelEqualsLibwebpsDecode() throws Exception {
        JsonNode expected = JSON.readTree(resource("expected.json"));
        assertThat(expected.size()).isGreaterThanOrEqualTo(8);
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byte[] file = resource(e.getKey());
            int[] argb = WebpDecoder.argb(file, ImageLimits.DEFAULT);
            int w = e.getValue().get("width").asInt(), h = e.getValue().get("height").asInt();
            assertThat(argb).as(e.getKey()).hasSize(w * h);
            byte[] rgba = new byte[argb.length * 4];
            for (int i = 0; i < argb.length; i++) {
                rgba[4 * i] = (byte) (argb[i] >> 16);
                rgba[4 * i + 1] = (byte) (argb[i] >> 8);
                rgba[4 * i + 2] = (byte) argb[i];
                rgba[4 * i + 3] = (byte) (argb[i] >>> 24);
            }
            assertThat(sha256(rgba)).as(e.getKey()).isEqualTo(e.getValue().get("rgba_sha256").asText());

            RgbImage rgb = decoder.decode(file);
            assertThat(rgb.width()).isEqualTo(w);
            assertThat(rgb.height()).isEqualTo(h);
            if (e.getValue().get("mode").asText().equals("RGB"))
                for (int i = 0; i < argb.length; i++)
                    assertThat(rgb.get(i % w, i / w, 1)).isEqualTo((argb[i] >> 8) & 0xff);
        }
    }

    @Test
    void alphaIsCompositedOverWhiteAsForPng() throws IOException {
        byte[] file = resource("alpha-rgba.webp");
        int[] argb = WebpDecoder.argb(file, ImageLimits.DEFAULT);
        RgbImage rgb = decoder.decode(file);
        int p = argb[5], a = p >>> 24, r = (p >> 16) & 0xff;
        assertThat(a).isLessThan(255);
        assertThat(rgb.get(5, 0, 0)).isEqualTo((r * a + 255 * (255 - a) + 127) / 255);
    }

    @Test
    void aHugeDeclaredSizeIsRefusedBeforeDecoding() throws IOException {
        // A 16384 × 16384 lossless header in a 30-byte file: refused from the header, nothing is allocated.
        byte[] bomb = resource("palette-2.webp").clone();
        int vp8l = 20;
        assertThat(bomb[vp8l] & 0xff).isEqualTo(0x2f);
        long bits = (16383L) | (16383L << 14);
        for (int i = 0; i < 4; i++) bomb[vp8l + 1 + i] = (byte) (i < 3 ? bits >> (8 * i) : (bomb[vp8l + 4] & 0xf0) | (bits >> 24 & 0x0f));
        assertThatThrownBy(() -> decoder.decode(bomb)).isInstanceOfSatisfying(ImageRejectedException.class,
                e -> assertThat(e.code()).isEqualTo(ImageRejectedException.IMAGE_TOO_LARGE));
        ImageDecoder small = new ImageDecoder(new ImageLimits(1 << 20, 100, 1, 17));
        assertThatThrownBy(() -> small.decode(resource("palette-2.webp"))).isInstanceOfSatisfying(ImageRejectedException.class,
                e -> assertThat(e.getMessage()).contains("61×17"));
    }

    @Test
    void truncatedLossyAndAnimatedFilesAreInvalid() throws IOException {
        byte[] full = resource("mixed.webp");
        byte[] cut = java.util.Arrays.copyOf(full, full.length / 2);
        // Keep the RIFF size consistent with the cut file, so the stream itself is what ends early.
        int riff = cut.length - 8, chunk = cut.length - 20;
        for (int i = 0; i < 4; i++) {
            cut[4 + i] = (byte) (riff >> (8 * i));
            cut[16 + i] = (byte) (chunk >> (8 * i));
        }
        assertInvalid(cut, "ends early");
        assertInvalid(java.util.Arrays.copyOf(full, full.length / 2), "exceeds the file");
        byte[] lossy = riff("VP8 ", new byte[] {0x10, 0x02, 0x00, (byte) 0x9d, 0x01, 0x2a, 1, 0, 1, 0});
        assertInvalid(lossy, "lossy");
        byte[] vp8x = new byte[10];
        vp8x[0] = 0x02;
        assertInvalid(riff("VP8X", vp8x), "animated");
    }

    /** Seeded random corruptions of every file: each decodes or is refused as an image, never anything else. */
    @Test
    void corruptedFilesAreRefusedAsImagesNeverWithAnotherError() throws IOException {
        ImageLimits bounded = new ImageLimits(1 << 20, 1 << 20, 1, 17);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(17);
        int refused = 0;
        for (Iterator<String> it = JSON.readTree(resource("expected.json")).fieldNames(); it.hasNext(); ) {
            byte[] original = resource(it.next());
            for (int round = 0; round < 60; round++) {
                byte[] b = original.clone();
                for (int k = 1 + rnd.nextInt(4); k > 0; k--) b[20 + rnd.nextInt(b.length - 20)] ^= (byte) (1 << rnd.nextInt(8));
                try {
                    WebpDecoder.decode(b, bounded);
                } catch (ImageRejectedException e) {
                    refused++;
                }
            }
        }
        assertThat(refused).isPositive();
    }

    private void assertInvalid(byte[] file, String message) {
        assertThatThrownBy(() -> decoder.decode(file)).isInstanceOfSatisfying(ImageRejectedException.class, e -> {
            assertThat(e.code()).isEqualTo(ImageRejectedException.INVALID_IMAGE);
            assertThat(e.getMessage()).contains(message);
        });
    }

    private static byte[] riff(String fourcc, byte[] payload) {
        byte[] b = new byte[20 + payload.length];
        System.arraycopy("RIFF".getBytes(), 0, b, 0, 4);
        int size = b.length - 8;
        for (int i = 0; i < 4; i++) {
            b[4 + i] = (byte) (size >> (8 * i));
            b[16 + i] = (byte) (payload.length >> (8 * i));
        }
        System.arraycopy("WEBP".getBytes(), 0, b, 8, 4);
        System.arraycopy(fourcc.getBytes(), 0, b, 12, 4);
        System.arraycopy(payload, 0, b, 20, payload.length);
        return b;
    }

    private static String sha256(byte[] b) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
