package io.herd.image;

/**
 * Resizes 8-bit RGB images the way torch's antialiased bilinear {@code interpolate} does on uint8 tensors (what
 * Hugging Face's fast image processors call), bit for bit: a width pass into uint8, then a height pass, each with
 * triangle-filter weights widened by the downscale factor, normalised, and applied in fixed point.
 */
public final class AntialiasedBilinearResizer {
    private AntialiasedBilinearResizer() {}

    public static RgbImage resize(RgbImage image, int height, int width) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("target size " + height + "×" + width);
        byte[] data = image.rgb();
        int h = image.height(), w = image.width();
        if (width != w) {
            data = pass(data, h, w, width, true);
            w = width;
        }
        if (height != h) {
            data = pass(data, h, w, height, false);
            h = height;
        }
        return new RgbImage(w, h, data);
    }

    /** One separable pass along the width (horizontal) or height from n to m samples. */
    private static byte[] pass(byte[] in, int h, int w, int m, boolean horizontal) {
        int n = horizontal ? w : h;
        Weights wt = weights(n, m);
        int outW = horizontal ? m : w, outH = horizontal ? h : m;
        byte[] out = new byte[outW * outH * 3];
        long half = 1L << (wt.precision - 1);
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++) {
                int i = horizontal ? x : y;
                for (int c = 0; c < 3; c++) {
                    long acc = half;
                    for (int j = 0; j < wt.count[i]; j++) {
                        int src = wt.first[i] + j;
                        int offset = horizontal ? (y * w + src) * 3 + c : (src * w + x) * 3 + c;
                        acc += (long) wt.fixed[i * wt.kmax + j] * (in[offset] & 0xff);
                    }
                    long v = acc >> wt.precision;
                    out[(y * outW + x) * 3 + c] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        return out;
    }

    private record Weights(int[] first, int[] count, int kmax, int[] fixed, int precision) {}

    private static Weights weights(int n, int m) {
        double scale = (double) n / m;
        double support = Math.max(scale, 1.0);
        int kmax = 2 * (int) Math.ceil(support) + 1;
        double inv = scale >= 1 ? 1.0 / scale : 1.0;
        int[] first = new int[m], count = new int[m];
        double[] w = new double[m * kmax];
        double wmax = 0;
        for (int i = 0; i < m; i++) {
            double center = scale * (i + 0.5);
            int f = Math.max((int) (center - support + 0.5), 0);
            int c = Math.max(0, Math.min(Math.min((int) (center + support + 0.5), n) - f, kmax));
            first[i] = f;
            count[i] = c;
            double sum = 0;
            for (int j = 0; j < c; j++) {
                double v = Math.max(0.0, 1.0 - Math.abs((f + j - center + 0.5) * inv));
                w[i * kmax + j] = v;
                sum += v;
            }
            for (int j = 0; j < c; j++) {
                if (sum != 0) w[i * kmax + j] /= sum;
                wmax = Math.max(wmax, w[i * kmax + j]);
            }
        }
        // The most fractional bits for which the largest weight still fits in 15 bits (at most 22).
        int precision = 0;
        while (precision < 22 && (int) (0.5 + wmax * (1L << (precision + 1))) < (1 << 15)) precision++;
        int[] fixed = new int[m * kmax];
        for (int k = 0; k < fixed.length; k++) {
            double v = w[k] * (1L << precision);
            fixed[k] = (int) (v < 0 ? v - 0.5 : v + 0.5);
        }
        return new Weights(first, count, kmax, fixed, precision);
    }
}
