package io.herd.tokenizer;

/**
 * Turns a rendered chat prompt into token ids: special-token strings written by the template become their ids, every
 * run of text between them is encoded as plain text ({@code ../shared/llama4/TOOLS.md} §5). Client text must never
 * inject a control token, yet template and client text arrive as one string; so every client string is passed through
 * {@link #escape} before rendering, which marks each {@code <} it holds (and the mark itself) with a private-use
 * character. Marked characters are always text; the marks are removed here.
 */
public final class RenderedPromptEncoder {
    /** U+E000, a private-use character: before a client character it says "literal", doubled it is itself. */
    public static final char MARK = '\uE000';
    /** Longest special-token string looked for (the vision reserved names are the longest, at 39 characters). */
    private static final int MAX_SPECIAL_LENGTH = 64;

    private final Tokenizer tokenizer;

    public RenderedPromptEncoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Marks client text so that nothing in it is read as a special token after rendering. */
    public static String escape(String clientText) {
        if (clientText.indexOf('<') < 0 && clientText.indexOf(MARK) < 0) return clientText;
        StringBuilder out = new StringBuilder(clientText.length() + 8);
        for (int i = 0; i < clientText.length(); i++) {
            char c = clientText.charAt(i);
            if (c == '<' || c == MARK) out.append(MARK);
            out.append(c);
        }
        return out.toString();
    }

    /** Removes the marks of {@link #escape} without encoding (text shown to people, tests). */
    public static String unescape(String rendered) {
        if (rendered.indexOf(MARK) < 0) return rendered;
        StringBuilder out = new StringBuilder(rendered.length());
        for (int i = 0; i < rendered.length(); i++) {
            char c = rendered.charAt(i);
            if (c == MARK && i + 1 < rendered.length()) c = rendered.charAt(++i);
            out.append(c);
        }
        return out.toString();
    }

    /** The ids of a rendered prompt; the template writes BOS itself, so none is added. */
    public int[] encode(String rendered) {
        IntList ids = new IntList(Math.max(16, rendered.length() / 3));
        StringBuilder text = new StringBuilder();
        int n = rendered.length();
        for (int i = 0; i < n; i++) {
            char c = rendered.charAt(i);
            if (c == MARK && i + 1 < n) {
                text.append(rendered.charAt(++i));
                continue;
            }
            if (c == '<' && i + 1 < n && rendered.charAt(i + 1) == '|') {
                int end = rendered.indexOf("|>", i + 2);
                if (end > 0 && end + 2 - i <= MAX_SPECIAL_LENGTH) {
                    String token = rendered.substring(i, end + 2);
                    if (tokenizer.hasSpecialToken(token)) {
                        flush(text, ids);
                        ids.add(tokenizer.specialTokenId(token));
                        i = end + 1;
                        continue;
                    }
                }
            }
            text.append(c);
        }
        flush(text, ids);
        return ids.toArray();
    }

    private void flush(StringBuilder text, IntList ids) {
        if (text.isEmpty()) return;
        tokenizer.encodeInto(text.toString(), ids);
        text.setLength(0);
    }
}
