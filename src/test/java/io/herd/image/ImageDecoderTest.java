package io.herd.image;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageDecoderTest {
    private final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);

    private static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(image, format, out)).as("writer for " + format).isTrue();
        return out.toByteArray();
    }

    private static BufferedImage pattern(int type) {
        BufferedImage img = new BufferedImage(5, 3, type);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 5; x++) img.setRGB(x, y, 0xff000000 | (x * 50) << 16 | (y * 100) << 8 | 200);
        return img;
    }

    @Test
    void losslessFormatsDecodeToTheirExactSamples() throws IOException {
        for (String format : new String[] {"png", "bmp"}) {
            RgbImage rgb = decoder.decode(encode(pattern(BufferedImage.TYPE_3BYTE_BGR), format));
            assertThat(rgb.width()).isEqualTo(5);
            assertThat(rgb.height()).isEqualTo(3);
            assertThat(new int[] {rgb.get(4, 2, 0), rgb.get(4, 2, 1), rgb.get(4, 2, 2)}).as(format).containsExactly(200, 200, 200);
            assertThat(rgb.get(1, 0, 0)).isEqualTo(50);
        }
        // GIF: palette lookup of the first frame.
        var palette = new java.awt.image.IndexColorModel(8, 2, new byte[] {0, (byte) 255}, new byte[] {0, 0}, new byte[] {0, 0});
        BufferedImage indexed = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_INDEXED, palette);
        indexed.getRaster().setSample(1, 1, 0, 1);
        RgbImage gif = decoder.decode(encode(indexed, "gif"));
        assertThat(new int[] {gif.get(1, 1, 0), gif.get(1, 1, 1), gif.get(1, 1, 2)}).containsExactly(255, 0, 0);
        // JPEG is lossy: the decoded colour is near the encoded one.
        RgbImage jpeg = decoder.decode(encode(pattern(BufferedImage.TYPE_3BYTE_BGR), "jpeg"));
        assertThat(jpeg.width()).isEqualTo(5);
    }

    @Test
    void grayscaleIsReplicatedWithoutGammaAndAlphaIsCompositedOverWhite() throws IOException {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 77);
        RgbImage g = decoder.decode(encode(gray, "png"));
        assertThat(new int[] {g.get(0, 0, 0), g.get(0, 0, 1), g.get(0, 0, 2)}).containsExactly(77, 77, 77);
        BufferedImage rgba = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x00000000);   // transparent black → white
        assertThat(decoder.decode(encode(rgba, "png")).get(0, 0, 1)).isEqualTo(255);
        rgba.setRGB(0, 0, 0x80000000);   // half transparent black → mid gray
        assertThat(decoder.decode(encode(rgba, "png")).get(0, 0, 1)).isEqualTo(127);
    }

    @Test
    void decompressionBombIsRefusedFromItsHeader() {
        // A valid PNG header declaring 60000 × 60000 pixels (3.6 gigapixels) and one tiny IDAT: refused before decoding.
        byte[] bomb = pngWithHeader(60000, 60000);
        assertThat(bomb.length).isLessThan(100);
        assertThatThrownBy(() -> decoder.decode(bomb)).isInstanceOfSatisfying(ImageRejectedException.class,
                e -> assertThat(e.code()).isEqualTo(ImageRejectedException.IMAGE_TOO_LARGE))
                .hasMessageContaining("60000×60000");
    }

    @Test
    void oversizedGarbageTruncatedAndWebpInputsAreRefusedWithTheirCodes() throws IOException {
        ImageDecoder small = new ImageDecoder(new ImageLimits(64, 1000, 1, 1));
        assertThatThrownBy(() -> small.decode(new byte[65])).isInstanceOfSatisfying(ImageRejectedException.class,
                e -> assertThat(e.code()).isEqualTo(ImageRejectedException.IMAGE_TOO_LARGE));
        assertThatThrownBy(() -> decoder.decode("hello, world".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOfSatisfying(ImageRejectedException.class, e -> assertThat(e.code()).isEqualTo(ImageRejectedException.INVALID_IMAGE));
        byte[] png = encode(pattern(BufferedImage.TYPE_3BYTE_BGR), "png");
        byte[] truncated = java.util.Arrays.copyOf(png, png.length / 2);
        assertThatThrownBy(() -> decoder.decode(truncated))
                .isInstanceOfSatisfying(ImageRejectedException.class, e -> assertThat(e.code()).isEqualTo(ImageRejectedException.INVALID_IMAGE));
        byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> decoder.decode(webp)).isInstanceOfSatisfying(ImageRejectedException.class,
                e -> assertThat(e.code()).isEqualTo(ImageRejectedException.INVALID_IMAGE)).hasMessageContaining("WebP");
        assertThatThrownBy(() -> ImageLimits.DEFAULT.checkImageCount(9)).isInstanceOf(ImageRejectedException.class);
        assertThatThrownBy(() -> ImageLimits.DEFAULT.checkTileCount(8 * 17 + 1)).isInstanceOf(ImageRejectedException.class);
    }

    private static byte[] pngWithHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
