package io.herd.image;

/**
 * One canonical prefix (Huffman) code of a WebP lossless stream, decoded bit by bit from the code's first bit as
 * DEFLATE does: per length, the count of codes and the symbols in canonical order. A code with a single symbol takes
 * no bits. Over-subscribed or incomplete codes are refused, as libwebp refuses them.
 */
final class Vp8lPrefixCode {
    static final int MAX_LENGTH = 15;

    private final int[] counts = new int[MAX_LENGTH + 1];
    private final int[] symbols;
    private final int single;

    /** @param lengths code length per symbol (0: the symbol is absent) */
    Vp8lPrefixCode(int[] lengths) {
        int n = 0, last = -1;
        for (int s = 0; s < lengths.length; s++)
            if (lengths[s] > 0) {
                counts[lengths[s]]++;
                n++;
                last = s;
            }
        if (n == 0) throw Vp8lDecoder.corrupt("a prefix code has no symbols");
        if (n == 1) {
            single = last;
            symbols = new int[0];
            return;
        }
        single = -1;
        long left = 1;
        for (int len = 1; len <= MAX_LENGTH; len++) {
            left = (left << 1) - counts[len];
            if (left < 0) throw Vp8lDecoder.corrupt("a prefix code is over-subscribed");
        }
        if (left != 0) throw Vp8lDecoder.corrupt("a prefix code is incomplete");
        int[] offsets = new int[MAX_LENGTH + 2];
        for (int len = 1; len <= MAX_LENGTH; len++) offsets[len + 1] = offsets[len] + counts[len];
        symbols = new int[n];
        for (int s = 0; s < lengths.length; s++) if (lengths[s] > 0) symbols[offsets[lengths[s]]++] = s;
    }

    int read(Vp8lBitReader in) {
        if (single >= 0) return single;
        int code = 0, first = 0, index = 0;
        for (int len = 1; len <= MAX_LENGTH; len++) {
            code |= in.bit();
            int count = counts[len];
            if (code - first < count) return symbols[index + code - first];
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        throw Vp8lDecoder.corrupt("an invalid prefix code");
    }
}
