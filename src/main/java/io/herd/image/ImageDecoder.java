package io.herd.image;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;

/**
 * Encoded image bytes → {@link RgbImage}: PNG, JPEG, GIF (first frame) and BMP through {@code javax.imageio}, the
 * format told by its magic bytes (never by a declared MIME type). Bounded: the byte count is checked first, then the
 * width × height the header declares, before any pixel data is decompressed, so a small file that expands to a huge
 * bitmap is refused without allocating it. Lossless WebP is decoded by {@link WebpDecoder} (bit-exact with libwebp);
 * lossy WebP is refused ({@code invalid_image}).
 *
 * <p>Conversion to RGB follows what Hugging Face's processors do with Pillow: samples are taken as stored (no colour
 * management, so grayscale is not gamma-converted), grayscale is replicated to three channels, palette entries are
 * looked up, alpha is composited over white, samples wider than 8 bits keep their top 8.
 */
public final class ImageDecoder {
    private final ImageLimits limits;

    public ImageDecoder(ImageLimits limits) {
        this.limits = limits;
    }

    /** The formats this decoder reads, by magic bytes. */
    public enum Format { PNG, JPEG, GIF, BMP, WEBP }

    public RgbImage decode(byte[] bytes) {
        if (bytes.length > limits.maxImageBytes())
            throw new ImageRejectedException(ImageRejectedException.IMAGE_TOO_LARGE, "image of " + bytes.length
                    + " bytes exceeds the limit of " + limits.maxImageBytes());
        Format format = sniff(bytes);
        if (format == Format.WEBP) {
            try {
                return WebpDecoder.decode(bytes, limits);
            } catch (ImageRejectedException e) {
                throw e;
            } catch (RuntimeException e) {
                throw invalid("cannot decode the WebP image: " + e, e);
            }
        }
        // A memory-cached stream: ImageIO's default stream for an InputStream may spill the image into temp files.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.name().toLowerCase());
            if (!readers.hasNext())
                throw new ImageRejectedException(ImageRejectedException.INVALID_IMAGE, "no " + format + " decoder available");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long width = reader.getWidth(0), height = reader.getHeight(0);
                if (width <= 0 || height <= 0)
                    throw invalid(format + " header declares a size of " + width + "×" + height, null);
                if (width * height > limits.maxImagePixels())
                    throw new ImageRejectedException(ImageRejectedException.IMAGE_TOO_LARGE, format + " image of " + width
                            + "×" + height + " pixels exceeds the limit of " + limits.maxImagePixels() + " pixels");
                BufferedImage image = reader.read(0);
                return toRgb(image);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ImageRejectedException r) throw r;
            throw invalid("cannot decode the " + format + " image: " + e.getMessage(), e);
        }
    }

    /** The format by its leading bytes; {@code invalid_image} when none matches. */
    public static Format sniff(byte[] b) {
        if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a)) return Format.PNG;
        if (startsWith(b, 0, 0xff, 0xd8, 0xff)) return Format.JPEG;
        if (startsWith(b, 0, 'G', 'I', 'F', '8') && b.length > 5 && (b[4] == '7' || b[4] == '9') && b[5] == 'a')
            return Format.GIF;
        if (startsWith(b, 0, 'B', 'M')) return Format.BMP;
        if (startsWith(b, 0, 'R', 'I', 'F', 'F') && startsWith(b, 8, 'W', 'E', 'B', 'P')) return Format.WEBP;
        throw invalid("not a PNG, JPEG, GIF, BMP or WebP image", null);
    }

    private static boolean startsWith(byte[] b, int offset, int... magic) {
        if (b.length < offset + magic.length) return false;
        for (int i = 0; i < magic.length; i++) if ((b[offset + i] & 0xff) != magic[i]) return false;
        return true;
    }

    private static ImageRejectedException invalid(String message, Throwable cause) {
        return new ImageRejectedException(ImageRejectedException.INVALID_IMAGE, message, cause);
    }

    private static RgbImage toRgb(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] px = new int[raster.getNumBands()];
        if (cm instanceof IndexColorModel icm) {
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int i = raster.getSample(x, y, 0);
                    put(out, (y * w + x) * 3, icm.getRed(i), icm.getGreen(i), icm.getBlue(i), icm.getAlpha(i));
                }
            return new RgbImage(w, h, out);
        }
        int bands = raster.getNumBands();
        if (bands < 1 || bands > 4) throw invalid("images with " + bands + " channels are not supported", null);
        int[] shift = new int[bands];
        for (int c = 0; c < bands; c++) shift[c] = Math.max(0, raster.getSampleModel().getSampleSize(c) - 8);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                raster.getPixel(x, y, px);
                for (int c = 0; c < bands; c++) px[c] >>= shift[c];
                int o = (y * w + x) * 3;
                switch (bands) {
                    case 1 -> put(out, o, px[0], px[0], px[0], 255);
                    case 2 -> put(out, o, px[0], px[0], px[0], px[1]);
                    case 3 -> put(out, o, px[0], px[1], px[2], 255);
                    default -> put(out, o, px[0], px[1], px[2], px[3]);
                }
            }
        return new RgbImage(w, h, out);
    }

    /** Writes one pixel, composited over white when it is not opaque. */
    static void put(byte[] out, int o, int r, int g, int b, int alpha) {
        if (alpha != 255) {
            r = over(r, alpha);
            g = over(g, alpha);
            b = over(b, alpha);
        }
        out[o] = (byte) r;
        out[o + 1] = (byte) g;
        out[o + 2] = (byte) b;
    }

    private static int over(int v, int alpha) {
        return (v * alpha + 255 * (255 - alpha) + 127) / 255;
    }
}
