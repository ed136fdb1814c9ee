package io.herd.tokenizer;

/**
 * The byte-level alphabet of Hugging Face BPE vocabularies (GPT-2's {@code bytes_to_unicode}): printable Latin-1
 * bytes stand for themselves, every other byte b is written as the code point 256 + (its index among those bytes).
 */
final class ByteLevelAlphabet {
    private static final int[] CODE_POINT_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CODE_POINT_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            int codePoint = printable ? b : 256 + extra++;
            CODE_POINT_TO_BYTE[codePoint] = b;
        }
    }

    private ByteLevelAlphabet() {}

    /** The bytes a vocabulary string stands for, or null when it has a character outside the alphabet. */
    static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CODE_POINT_TO_BYTE.length ? CODE_POINT_TO_BYTE[c] : -1;
            if (b < 0) return null;
            out[i] = (byte) b;
        }
        return out;
    }
}
