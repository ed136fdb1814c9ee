package io.herd.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a growing sequence of token ids into text pieces for streaming. A token may end in the middle of a UTF-8
 * character (one emoji can span several tokens), so the bytes of an incomplete trailing character are held back
 * until the tokens that complete it arrive; {@link #flush()} releases whatever is left at the end of the stream.
 * Invalid bytes become U+FFFD as soon as they are known to be invalid. One instance per stream; not thread-safe.
 */
public final class StreamingDetokenizer {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private byte[] pending = new byte[16];
    private int nPending;

    /**
     * @param skipSpecialTokens when true, special tokens (e.g. {@code <|eot|>}) contribute no text
     */
    public StreamingDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one token and returns the text it completes (possibly empty). */
    public String append(int tokenId) {
        if (!(skipSpecialTokens && tokenizer.isSpecial(tokenId))) {
            byte[] b = tokenizer.bytes(tokenId);
            if (nPending + b.length > pending.length) {
                pending = Arrays.copyOf(pending, Math.max(pending.length * 2, nPending + b.length));
            }
            System.arraycopy(b, 0, pending, nPending, b.length);
            nPending += b.length;
        }
        int complete = completePrefix(pending, nPending);
        return take(complete);
    }

    /** Whether bytes of an unfinished character are held back (text the next token or {@link #flush()} releases). */
    public boolean hasPendingBytes() { return nPending > 0; }

    /** Returns the held-back bytes (an incomplete character becomes U+FFFD) and empties the buffer. */
    public String flush() { return take(nPending); }

    private String take(int n) {
        if (n == 0) return "";
        String text = new String(pending, 0, n, StandardCharsets.UTF_8);
        System.arraycopy(pending, n, pending, 0, nPending - n);
        nPending -= n;
        return text;
    }

    /**
     * Length of the prefix that can be decoded now: everything except a trailing lead byte plus continuation bytes
     * that is still short of the length its lead byte announces (and so may yet become a valid character).
     */
    static int completePrefix(byte[] bytes, int n) {
        // A UTF-8 character is at most 4 bytes: look back at most 3 bytes for the lead of an unfinished one.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = bytes[n - back] & 0xFF;
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for its lead
            int need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? (b <= 0xEF ? 3 : 0) : b >= 0xC2 ? 2 : 0;
            if (need > back && validSoFar(bytes, n - back, n)) return n - back;
            return n;
        }
        return n;
    }

    /** Whether the continuation bytes after a lead are allowed so far (rejects overlongs and surrogates early). */
    private static boolean validSoFar(byte[] bytes, int lead, int end) {
        int b0 = bytes[lead] & 0xFF;
        if (lead + 1 < end) {
            int b1 = bytes[lead + 1] & 0xFF;
            int lo = 0x80, hi = 0xBF;
            if (b0 == 0xE0) lo = 0xA0;
            else if (b0 == 0xED) hi = 0x9F;
            else if (b0 == 0xF0) lo = 0x90;
            else if (b0 == 0xF4) hi = 0x8F;
            if (b1 < lo || b1 > hi) return false;
        }
        return true;
    }
}
