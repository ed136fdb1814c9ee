package io.herd.image;

/** Bits of a WebP lossless stream, least significant first; reading past the end is an error. */
final class Vp8lBitReader {
    private final byte[] data;
    private final int end;
    private int pos;
    private long bits;
    private int nBits;

    Vp8lBitReader(byte[] data, int offset, int length) {
        this.data = data;
        this.pos = offset;
        this.end = offset + length;
    }

    int bits(int n) {
        while (nBits < n) {
            if (pos >= end) throw Vp8lDecoder.corrupt("the lossless stream ends early");
            bits |= (long) (data[pos++] & 0xff) << nBits;
            nBits += 8;
        }
        int v = (int) (bits & ((1L << n) - 1));
        bits >>>= n;
        nBits -= n;
        return v;
    }

    int bit() {
        return bits(1);
    }
}
