package io.herd.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a tokenizer from the vocabulary a llama.cpp GGUF carries ({@code tokenizer.ggml.*}): {@code model} "gpt2"
 * (byte-level BPE), {@code pre} naming the pre-tokenizer (only "llama4" is known to Herd, whose regex is
 * {@link Tokenizer#LLAMA4_PATTERN}), {@code tokens} (byte-level strings for text pieces, the literal text of
 * control tokens), {@code token_type} (llama.cpp's {@code llama_token_type}: 1 normal, 2 unknown, 3 control,
 * 4 user-defined, 5 unused, 6 byte) and {@code merges} ("left right", priority = position). Normal tokens are the
 * BPE vocabulary and must be ids 0 … n−1; every other type is a special token, entered only as an id, as the
 * Hugging Face path treats added tokens.
 */
final class GgufTokenizerVocabulary {
    private GgufTokenizerVocabulary() {}

    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    static Tokenizer build(String model, String pre, List<String> tokens, long[] types, List<String> merges, String source) {
        if (!"gpt2".equals(model))
            throw bad(source, "tokenizer.ggml.model is " + model + ", Herd reads byte-level BPE (gpt2) vocabularies");
        if (!"llama4".equals(pre))
            throw bad(source, "tokenizer.ggml.pre is " + pre + ", Herd knows the pre-tokenizer of llama4 only");
        if (types.length != tokens.size())
            throw bad(source, "tokenizer.ggml.token_type has " + types.length + " entries for " + tokens.size() + " tokens");
        int size = tokens.size();
        int nBase = 0;
        while (nBase < size && types[nBase] == NORMAL) nBase++;
        byte[][] tokenBytes = new byte[size][];
        byte[][] base = new byte[nBase][];
        Map<String, Integer> ids = new HashMap<>(nBase * 2);
        Map<String, Integer> specials = new HashMap<>();
        for (int id = 0; id < size; id++) {
            String t = tokens.get(id);
            if (id < nBase) {
                byte[] bytes = ByteLevelAlphabet.decode(t);
                if (bytes == null || bytes.length == 0) throw bad(source, "token " + id + " '" + t + "' is not byte-level text");
                base[id] = bytes;
                tokenBytes[id] = bytes;
                if (ids.putIfAbsent(t, id) != null) throw bad(source, "token '" + t + "' appears twice");
            } else {
                long type = types[id];
                if (type == NORMAL)
                    throw bad(source, "normal token " + id + " follows special tokens (the text vocabulary must be ids 0.."
                            + (nBase - 1) + ")");
                if (type < UNKNOWN || type > BYTE) throw bad(source, "token " + id + " has unknown type " + type);
                tokenBytes[id] = t.getBytes(StandardCharsets.UTF_8);
                specials.putIfAbsent(t, id);
            }
        }
        ByteStringMap vocabulary;
        try {
            vocabulary = new ByteStringMap(base);
        } catch (IllegalArgumentException e) {
            throw bad(source, e.getMessage());
        }
        int[] byteIds = vocabulary.singleByteIds(
                b -> bad(source, "the vocabulary lacks the single byte 0x" + Integer.toHexString(b)));
        PairMergeTable table = new PairMergeTable(merges.size());
        for (int i = 0; i < merges.size(); i++) {
            String m = merges.get(i);
            int space = m.indexOf(' ');
            if (space <= 0 || space == m.length() - 1 || m.indexOf(' ', space + 1) >= 0)
                throw bad(source, "tokenizer.ggml.merges[" + i + "] '" + m + "' is not 'left right'");
            String left = m.substring(0, space), right = m.substring(space + 1);
            Integer l = ids.get(left), r = ids.get(right), merged = ids.get(left + right);
            if (l == null || r == null || merged == null)
                throw bad(source, "tokenizer.ggml.merges[" + i + "] (" + left + ", " + right + ") names a token not in the vocabulary");
            table.put(l, r, i, merged);
        }
        // llama.cpp's llama4 pre-tokenizer ignores merges for pieces that are whole tokens, as tokenizer.json says.
        BytePairEncoder bpe = new BytePairEncoder(byteIds, vocabulary, table, true);
        return new Tokenizer(tokenBytes, nBase, specials, bpe, Tokenizer.LLAMA4_PATTERN, source);
    }

    private static IllegalArgumentException bad(String source, String why) {
        return new IllegalArgumentException(source + ": " + why);
    }
}
