package io.herd.image;

/**
 * A WebP file's RIFF container → its lossless (VP8L) bitstream → {@link RgbImage}. Simple files ({@code VP8L} chunk)
 * and extended ones ({@code VP8X} with a {@code VP8L} chunk) are read; lossy ({@code VP8 }) and animated files are
 * refused with {@code invalid_image}. The width × height in the header is checked against the limit before any pixel
 * is decoded or allocated.
 */
final class WebpDecoder {
    private WebpDecoder() {}

    static RgbImage decode(byte[] b, ImageLimits limits) {
        if (b.length < 20) throw Vp8lDecoder.corrupt("the file is too short");
        long riffSize = le32(b, 4);
        // The RIFF size covers everything after its own field; trailing bytes beyond it are ignored, as libwebp does.
        int end = (int) Math.min(b.length, riffSize + 8);
        if (riffSize + 8 > b.length) throw Vp8lDecoder.corrupt("the RIFF size exceeds the file");
        int pos = 12;
        boolean extended = false;
        long canvasW = 0, canvasH = 0;
        while (pos + 8 <= end) {
            String fourcc = new String(b, pos, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            long size = le32(b, pos + 4);
            int data = pos + 8;
            if (size > end - data) throw Vp8lDecoder.corrupt("chunk " + fourcc.strip() + " exceeds the file");
            switch (fourcc) {
                case "VP8L" -> {
                    Vp8lDecoder.Header h = Vp8lDecoder.header(b, data, (int) size);
                    if (extended && (h.width() != canvasW || h.height() != canvasH))
                        throw Vp8lDecoder.corrupt("the image is " + h.width() + "×" + h.height() + " on a canvas of "
                                + canvasW + "×" + canvasH);
                    return lossless(b, data, (int) size, limits);
                }
                case "VP8 " -> throw new ImageRejectedException(ImageRejectedException.INVALID_IMAGE,
                        "lossy WebP images are not supported yet; send lossless WebP, PNG, JPEG, GIF or BMP");
                case "VP8X" -> {
                    if (pos != 12 || size < 10) throw Vp8lDecoder.corrupt("a misplaced or short VP8X chunk");
                    if ((b[data] & 0x02) != 0)
                        throw new ImageRejectedException(ImageRejectedException.INVALID_IMAGE,
                                "animated WebP images are not supported");
                    canvasW = (le32(b, data + 4) & 0xffffff) + 1;
                    canvasH = (le32(b, data + 7) & 0xffffff) + 1;
                    checkPixels(canvasW, canvasH, limits);
                    extended = true;
                }
                default -> { }
            }
            pos = data + (int) size + (int) (size & 1);
        }
        throw Vp8lDecoder.corrupt(extended ? "no image chunk" : "no VP8L or VP8 chunk");
    }

    private static RgbImage lossless(byte[] b, int offset, int length, ImageLimits limits) {
        Vp8lDecoder.Header h = Vp8lDecoder.header(b, offset, length);
        checkPixels(h.width(), h.height(), limits);
        int[] argb = Vp8lDecoder.decode(b, offset, length);
        byte[] rgb = new byte[argb.length * 3];
        for (int i = 0; i < argb.length; i++) {
            int p = argb[i];
            ImageDecoder.put(rgb, 3 * i, (p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff, h.alpha() ? p >>> 24 : 255);
        }
        return new RgbImage(h.width(), h.height(), rgb);
    }

    /** ARGB pixels of a lossless WebP file (for tests against libwebp's own output). */
    static int[] argb(byte[] b, ImageLimits limits) {
        int pos = 12;
        while (pos + 8 <= b.length) {
            long size = le32(b, pos + 4);
            if (new String(b, pos, 4, java.nio.charset.StandardCharsets.ISO_8859_1).equals("VP8L")) {
                Vp8lDecoder.Header h = Vp8lDecoder.header(b, pos + 8, (int) size);
                checkPixels(h.width(), h.height(), limits);
                return Vp8lDecoder.decode(b, pos + 8, (int) size);
            }
            pos += 8 + (int) size + (int) (size & 1);
        }
        throw Vp8lDecoder.corrupt("no VP8L chunk");
    }

    private static void checkPixels(long w, long h, ImageLimits limits) {
        if (w * h > limits.maxImagePixels())
            throw new ImageRejectedException(ImageRejectedException.IMAGE_TOO_LARGE, "WEBP image of " + w + "×" + h
                    + " pixels exceeds the limit of " + limits.maxImagePixels() + " pixels");
    }

    private static long le32(byte[] b, int i) {
        return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
    }
}
