package io.herd.serving;

import java.util.List;

/** A test codec: token id = UTF-16 code unit + 10; id 1 is BOS, id 2 ends a generation and decodes to nothing. */
public final class CharCodec implements PromptCodec {
    public static final int BOS = 1;
    public static final int EOS = 2;

    public static int id(char c) { return c + 10; }

    @Override public int[] encodePrompt(String prompt) {
        int[] out = new int[prompt.length() + 1];
        out[0] = BOS;
        for (int i = 0; i < prompt.length(); i++) out[i + 1] = id(prompt.charAt(i));
        return out;
    }

    @Override public int[] encodeChat(List<RequestMessage> messages) {
        StringBuilder sb = new StringBuilder();
        for (RequestMessage m : messages) sb.append('<').append(m.role()).append('>').append(m.content());
        return encodePrompt(sb.append("<assistant>").toString());
    }

    @Override public IncrementalDecoder newDecoder() {
        return new IncrementalDecoder() {
            @Override public String append(int tokenId) { return tokenId < 10 ? "" : String.valueOf((char) (tokenId - 10)); }

            @Override public String finish() { return ""; }
        };
    }

    @Override public int[] stopTokenIds() { return new int[] {EOS}; }

    @Override public byte[] tokenBytes(int tokenId) {
        return tokenId < 10 ? new byte[0]
                : String.valueOf((char) (tokenId - 10)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
