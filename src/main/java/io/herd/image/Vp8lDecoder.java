package io.herd.image;

/**
 * The WebP lossless bitstream (VP8L, RFC 9649) → ARGB pixels, as libwebp decodes it: prefix-coded pixels with LZ77
 * back references and a colour cache, under up to four inverse transforms (predictor, colour, subtract-green,
 * colour indexing). Bounded: the caller checks the header's width × height before {@link #decode} allocates, every
 * back reference stays inside the image, at most 65,536 prefix-code groups (16 bits) each read from the stream.
 */
final class Vp8lDecoder {
    private static final int SIGNATURE = 0x2f;
    private static final int[] CODE_LENGTH_ORDER = {17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    private static final int LITERALS = 256, LENGTH_CODES = 24, DISTANCE_CODES = 40;
    /** The 120 short distance codes as (dx, dy) pairs, nearest first (RFC 9649 §4.2.2). */
    private static final int[] DISTANCE_MAP = {
            0, 1, 1, 0, 1, 1, -1, 1, 0, 2, 2, 0, 1, 2, -1, 2, 2, 1, -2, 1, 2, 2, -2, 2, 0, 3, 3, 0, 1, 3, -1, 3,
            3, 1, -3, 1, 2, 3, -2, 3, 3, 2, -3, 2, 0, 4, 4, 0, 1, 4, -1, 4, 4, 1, -4, 1, 3, 3, -3, 3, 2, 4, -2, 4,
            4, 2, -4, 2, 0, 5, 3, 4, -3, 4, 4, 3, -4, 3, 5, 0, 1, 5, -1, 5, 5, 1, -5, 1, 2, 5, -2, 5, 5, 2, -5, 2,
            4, 4, -4, 4, 3, 5, -3, 5, 5, 3, -5, 3, 0, 6, 6, 0, 1, 6, -1, 6, 6, 1, -6, 1, 2, 6, -2, 6, 6, 2, -6, 2,
            4, 5, -4, 5, 5, 4, -5, 4, 3, 6, -3, 6, 6, 3, -6, 3, 0, 7, 7, 0, 1, 7, -1, 7, 5, 5, -5, 5, 7, 1, -7, 1,
            4, 6, -4, 6, 6, 4, -6, 4, 2, 7, -2, 7, 7, 2, -7, 2, 3, 7, -3, 7, 7, 3, -7, 3, 5, 6, -5, 6, 6, 5, -6, 5,
            8, 0, 4, 7, -4, 7, 7, 4, -7, 4, 8, 1, 8, 2, 6, 6, -6, 6, 8, 3, 5, 7, -5, 7, 7, 5, -7, 5, 8, 4, 6, 7,
            -6, 7, 7, 6, -7, 6, 8, 5, 7, 7, -7, 7, 8, 6, 8, 7};

    /** Width, height and whether the encoder says alpha is used, from the 5-byte header. */
    record Header(int width, int height, boolean alpha) {}

    private final Vp8lBitReader in;

    private Vp8lDecoder(byte[] data, int offset, int length) {
        this.in = new Vp8lBitReader(data, offset, length);
    }

    static Header header(byte[] data, int offset, int length) {
        if (length < 5 || (data[offset] & 0xff) != SIGNATURE) throw corrupt("not a lossless WebP stream");
        Vp8lBitReader r = new Vp8lBitReader(data, offset + 1, 4);
        int w = r.bits(14) + 1, h = r.bits(14) + 1;
        boolean alpha = r.bit() == 1;
        if (r.bits(3) != 0) throw corrupt("unknown lossless WebP version");
        return new Header(w, h, alpha);
    }

    /** ARGB pixels, row-major; the header must have been checked against the pixel limit. */
    static int[] decode(byte[] data, int offset, int length) {
        Header h = header(data, offset, length);
        Vp8lDecoder d = new Vp8lDecoder(data, offset, length);
        d.in.bits(8 + 14 + 14 + 1 + 3);
        return d.image(h.width(), h.height());
    }

    /** The main image: its transforms, then its pixels, then the transforms undone in reverse order. */
    private int[] image(int width, int height) {
        Transform[] transforms = new Transform[4];
        int n = 0, xsize = width;
        boolean[] seen = new boolean[4];
        while (in.bit() == 1) {
            int type = in.bits(2);
            if (seen[type]) throw corrupt("a transform appears twice");
            seen[type] = true;
            Transform t = new Transform(type, xsize);
            switch (type) {
                case 0, 1 -> {
                    t.bits = in.bits(3) + 2;
                    t.data = pixels(subSize(xsize, t.bits), subSize(height, t.bits), false);
                }
                case 3 -> {
                    int size = in.bits(8) + 1;
                    t.bits = size > 16 ? 0 : size > 4 ? 1 : size > 2 ? 2 : 3;
                    int[] table = pixels(size, 1, false);
                    t.data = new int[256];
                    for (int i = 0; i < size; i++) t.data[i] = i == 0 ? table[0] : addPixels(table[i], t.data[i - 1]);
                    xsize = subSize(xsize, t.bits);
                }
                default -> { }
            }
            transforms[n++] = t;
        }
        int[] argb = pixels(xsize, height, true);
        for (int i = n - 1; i >= 0; i--) argb = transforms[i].undo(argb, height);
        return argb;
    }

    private static int subSize(int size, int bits) {
        return (size + (1 << bits) - 1) >> bits;
    }

    /** An entropy-coded image of xsize × ysize; only the main image may carry meta prefix codes. */
    private int[] pixels(int xsize, int ysize, boolean main) {
        int cacheBits = 0;
        if (in.bit() == 1) {
            cacheBits = in.bits(4);
            if (cacheBits < 1 || cacheBits > 11) throw corrupt("invalid colour cache size");
        }
        int prefixBits = 0, entropyWidth = 0;
        int[] entropy = null;
        int groups = 1;
        if (main && in.bit() == 1) {
            prefixBits = in.bits(3) + 2;
            entropyWidth = subSize(xsize, prefixBits);
            entropy = pixels(entropyWidth, subSize(ysize, prefixBits), false);
            for (int i = 0; i < entropy.length; i++) {
                entropy[i] = (entropy[i] >> 8) & 0xffff;
                groups = Math.max(groups, entropy[i] + 1);
            }
        }
        int cacheSize = cacheBits == 0 ? 0 : 1 << cacheBits;
        Vp8lPrefixCode[][] codes = new Vp8lPrefixCode[groups][];
        for (int g = 0; g < groups; g++)
            codes[g] = new Vp8lPrefixCode[] {code(LITERALS + LENGTH_CODES + cacheSize), code(LITERALS), code(LITERALS),
                    code(LITERALS), code(DISTANCE_CODES)};
        int[] cache = cacheSize == 0 ? null : new int[cacheSize];
        int total = Math.multiplyExact(xsize, ysize);
        int[] out = new int[total];
        int pos = 0, cached = 0;
        while (pos < total) {
            int x = pos % xsize, y = pos / xsize;
            Vp8lPrefixCode[] c = codes[entropy == null ? 0 : entropy[(y >> prefixBits) * entropyWidth + (x >> prefixBits)]];
            int s = c[0].read(in);
            if (s < LITERALS) {
                int red = c[1].read(in), blue = c[2].read(in), alpha = c[3].read(in);
                out[pos++] = alpha << 24 | red << 16 | s << 8 | blue;
            } else if (s < LITERALS + LENGTH_CODES) {
                int length = prefixValue(s - LITERALS);
                int distance = planeDistance(prefixValue(c[4].read(in)), xsize);
                if (distance > pos || length > total - pos) throw corrupt("a back reference leaves the image");
                for (int i = 0; i < length; i++, pos++) out[pos] = out[pos - distance];
            } else {
                if (cache == null) throw corrupt("a colour cache code without a colour cache");
                // Insert what came before the lookup first, so the cache holds exactly the pixels before this one.
                for (; cached < pos; cached++) cache[(0x1e35a7bd * out[cached]) >>> (32 - cacheBits)] = out[cached];
                int key = s - LITERALS - LENGTH_CODES;
                out[pos++] = cache[key];
            }
            if (cache != null)
                for (; cached < pos; cached++) cache[(0x1e35a7bd * out[cached]) >>> (32 - cacheBits)] = out[cached];
        }
        return out;
    }

    private int prefixValue(int prefix) {
        if (prefix < 4) return prefix + 1;
        int extra = (prefix - 2) >> 1;
        int offset = (2 + (prefix & 1)) << extra;
        return offset + in.bits(extra) + 1;
    }

    private static int planeDistance(int code, int xsize) {
        if (code > 120) return code - 120;
        int d = DISTANCE_MAP[2 * (code - 1)] + DISTANCE_MAP[2 * (code - 1) + 1] * xsize;
        return Math.max(1, d);
    }

    /** One prefix code over an alphabet of {@code size} symbols, simple or normal. */
    private Vp8lPrefixCode code(int size) {
        int[] lengths = new int[size];
        if (in.bit() == 1) {
            int nSymbols = in.bit() + 1;
            int first = in.bits(in.bit() == 0 ? 1 : 8);
            if (first >= size) throw corrupt("a prefix code symbol is out of range");
            lengths[first] = 1;
            if (nSymbols == 2) {
                int second = in.bits(8);
                if (second >= size) throw corrupt("a prefix code symbol is out of range");
                lengths[second] = 1;
            }
            return new Vp8lPrefixCode(lengths);
        }
        int nCodeLengths = in.bits(4) + 4;
        int[] codeLengthLengths = new int[CODE_LENGTH_ORDER.length];
        for (int i = 0; i < nCodeLengths; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]] = in.bits(3);
        Vp8lPrefixCode lengthCode = new Vp8lPrefixCode(codeLengthLengths);
        int maxSymbol = size;
        if (in.bit() == 1) {
            int lengthBits = 2 + 2 * in.bits(3);
            maxSymbol = 2 + in.bits(lengthBits);
            if (maxSymbol > size) throw corrupt("a prefix code's length count exceeds its alphabet");
        }
        int previous = 8;
        for (int symbol = 0; symbol < size; ) {
            if (maxSymbol-- == 0) break;
            int len = lengthCode.read(in);
            if (len < 16) {
                lengths[symbol++] = len;
                if (len != 0) previous = len;
                continue;
            }
            int repeat, value;
            switch (len) {
                case 16 -> {
                    repeat = 3 + in.bits(2);
                    value = previous;
                }
                case 17 -> {
                    repeat = 3 + in.bits(3);
                    value = 0;
                }
                default -> {
                    repeat = 11 + in.bits(7);
                    value = 0;
                }
            }
            if (symbol + repeat > size) throw corrupt("a prefix code's lengths overrun its alphabet");
            for (int i = 0; i < repeat; i++) lengths[symbol++] = value;
        }
        return new Vp8lPrefixCode(lengths);
    }

    /** Per-channel sum modulo 256. */
    static int addPixels(int a, int b) {
        int ag = (a & 0xff00ff00) + (b & 0xff00ff00);
        int rb = (a & 0x00ff00ff) + (b & 0x00ff00ff);
        return (ag & 0xff00ff00) | (rb & 0x00ff00ff);
    }

    static ImageRejectedException corrupt(String message) {
        return new ImageRejectedException(ImageRejectedException.INVALID_IMAGE, "cannot decode the WebP image: " + message);
    }

    /** A transform as read, undone on the pixels of the stage after it. */
    private static final class Transform {
        final int type;
        /** Width of the image this transform's output has (before a colour-indexing transform narrowed it). */
        final int xsize;
        int bits;
        int[] data;

        Transform(int type, int xsize) {
            this.type = type;
            this.xsize = xsize;
        }

        int[] undo(int[] p, int height) {
            switch (type) {
                case 0 -> predict(p, height);
                case 1 -> colour(p, height);
                case 2 -> {
                    for (int i = 0; i < p.length; i++) {
                        int g = (p[i] >> 8) & 0xff;
                        int rb = ((p[i] & 0x00ff00ff) + (g << 16 | g)) & 0x00ff00ff;
                        p[i] = (p[i] & 0xff00ff00) | rb;
                    }
                }
                default -> {
                    return unIndex(p, height);
                }
            }
            return p;
        }

        private void predict(int[] p, int height) {
            int w = xsize, blocksWide = subSize(w, bits);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < w; x++) {
                    int i = y * w + x;
                    int mode = y == 0 ? (x == 0 ? 0 : 1) : x == 0 ? 2
                            : (data[(y >> bits) * blocksWide + (x >> bits)] >> 8) & 0xf;
                    p[i] = addPixels(p[i], predictor(mode, p, i, w));
                }
        }

        private static int predictor(int mode, int[] p, int i, int w) {
            int l = i % w == 0 ? 0 : p[i - 1];
            int t = i >= w ? p[i - w] : 0;
            // The top-right of the rightmost column is the first pixel of the current row, as libwebp reads it.
            int tr = i >= w ? p[i - w + 1] : 0, tl = i >= w + 1 ? p[i - w - 1] : 0;
            return switch (mode) {
                case 0 -> 0xff000000;
                case 1 -> l;
                case 2 -> t;
                case 3 -> tr;
                case 4 -> tl;
                case 5 -> avg(avg(l, tr), t);
                case 6 -> avg(l, tl);
                case 7 -> avg(l, t);
                case 8 -> avg(tl, t);
                case 9 -> avg(t, tr);
                case 10 -> avg(avg(l, tl), avg(t, tr));
                case 11 -> select(l, t, tl);
                case 12 -> clampAddSubtractFull(l, t, tl);
                case 13 -> clampAddSubtractHalf(avg(l, t), tl);
                default -> 0xff000000; // modes 14 and 15 act as 0 (a black, opaque prediction) in libwebp
            };
        }

        private static int avg(int a, int b) {
            return (((a ^ b) & 0xfefefefe) >>> 1) + (a & b);
        }

        private static int select(int l, int t, int tl) {
            int pl = 0, pt = 0;
            for (int s = 0; s < 32; s += 8) {
                int tlc = (tl >>> s) & 0xff;
                pl += Math.abs(((t >>> s) & 0xff) - tlc);
                pt += Math.abs(((l >>> s) & 0xff) - tlc);
            }
            return pl < pt ? l : t;
        }

        private static int clampAddSubtractFull(int a, int b, int c) {
            int r = 0;
            for (int s = 0; s < 32; s += 8)
                r |= clamp(((a >>> s) & 0xff) + ((b >>> s) & 0xff) - ((c >>> s) & 0xff)) << s;
            return r;
        }

        private static int clampAddSubtractHalf(int a, int b) {
            int r = 0;
            for (int s = 0; s < 32; s += 8) {
                int ac = (a >>> s) & 0xff, bc = (b >>> s) & 0xff;
                r |= clamp(ac + (ac - bc) / 2) << s;
            }
            return r;
        }

        private static int clamp(int v) {
            return v < 0 ? 0 : Math.min(v, 255);
        }

        private void colour(int[] p, int height) {
            int w = xsize, blocksWide = subSize(w, bits);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < w; x++) {
                    int e = data[(y >> bits) * blocksWide + (x >> bits)];
                    byte greenToRed = (byte) e, greenToBlue = (byte) (e >> 8), redToBlue = (byte) (e >> 16);
                    int i = y * w + x, v = p[i];
                    byte green = (byte) (v >> 8);
                    int red = ((v >> 16) + ((greenToRed * green) >> 5)) & 0xff;
                    int blue = (v + ((greenToBlue * green) >> 5)) & 0xff;
                    blue = (blue + ((redToBlue * (byte) red) >> 5)) & 0xff;
                    p[i] = (v & 0xff00ff00) | red << 16 | blue;
                }
        }

        private int[] unIndex(int[] p, int height) {
            int w = xsize, packedWidth = subSize(w, bits);
            int perByte = 1 << bits, bitsPer = 8 >> bits, mask = (1 << bitsPer) - 1;
            int[] out = new int[Math.multiplyExact(w, height)];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < w; x++) {
                    int g = (p[y * packedWidth + x / perByte] >> 8) & 0xff;
                    int index = (g >> ((x % perByte) * bitsPer)) & mask;
                    out[y * w + x] = data[index];
                }
            return out;
        }
    }
}
