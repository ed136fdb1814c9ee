package io.herd.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code tokenizer.json} whose model is byte-level BPE: {@code model.vocab} (byte-level
 * strings → id), {@code model.merges} (priority = position in the list), {@code added_tokens} (the special tokens),
 * and the regex of the {@code Split} pre-tokenizer. Streamed, because the Llama 4 file is 28 MB.
 */
final class HuggingFaceTokenizerFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceTokenizerFile() {}

    static Tokenizer load(Path file) throws IOException {
        Map<String, Integer> vocab = null;
        List<String[]> merges = null;
        boolean ignoreMerges = false;
        JsonNode addedTokens = null;
        JsonNode preTokenizer = null;
        JsonNode normalizer = null;
        try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
            p.setCodec(JSON);
            expect(p, p.nextToken(), JsonToken.START_OBJECT, file, "top level");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "added_tokens" -> addedTokens = p.readValueAsTree();
                    case "pre_tokenizer" -> preTokenizer = p.readValueAsTree();
                    case "normalizer" -> normalizer = p.readValueAsTree();
                    case "model" -> {
                        expect(p, p.currentToken(), JsonToken.START_OBJECT, file, "model");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String modelField = p.currentName();
                            JsonToken value = p.nextToken();
                            switch (modelField) {
                                case "type" -> {
                                    if (!"BPE".equals(p.getText())) {
                                        throw bad(file, "model.type is " + p.getText() + ", expected BPE");
                                    }
                                }
                                case "vocab" -> vocab = readVocab(p, file);
                                case "merges" -> merges = readMerges(p, file);
                                case "ignore_merges" -> ignoreMerges = value == JsonToken.VALUE_TRUE;
                                default -> p.skipChildren();
                            }
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        }
        if (vocab == null) throw bad(file, "model.vocab missing");
        if (merges == null) throw bad(file, "model.merges missing");
        if (normalizer != null && !normalizer.isNull()) throw bad(file, "normalizer is not supported: " + normalizer);
        return build(file.toString(), vocab, merges, ignoreMerges, addedTokens, splitPattern(preTokenizer, file));
    }

    private static Tokenizer build(String source, Map<String, Integer> vocab, List<String[]> merges,
                                   boolean ignoreMerges, JsonNode addedTokens, String pattern) {
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        Map<String, Integer> specials = new HashMap<>();
        if (addedTokens != null) {
            for (JsonNode t : addedTokens) {
                if (!t.hasNonNull("id") || !t.hasNonNull("content")) throw bad(source, "added_tokens entry " + t);
                size = Math.max(size, t.get("id").asInt() + 1);
            }
        }
        byte[][] tokenBytes = new byte[size][];
        byte[][] base = new byte[size][];
        int nBase = 0;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            byte[] bytes = ByteLevelAlphabet.decode(e.getKey());
            if (bytes == null || bytes.length == 0) {
                throw bad(source, "model.vocab entry '" + e.getKey() + "' is not byte-level text");
            }
            int id = e.getValue();
            if (id < 0 || base[id] != null) throw bad(source, "model.vocab id " + id + " negative or repeated");
            base[id] = bytes;
            tokenBytes[id] = bytes;
            nBase++;
        }
        if (addedTokens != null) {
            for (JsonNode t : addedTokens) {
                int id = t.get("id").asInt();
                String content = t.get("content").asText();
                if (base[id] != null) throw bad(source, "added token " + content + " reuses vocab id " + id);
                tokenBytes[id] = content.getBytes(StandardCharsets.UTF_8);
                specials.put(content, id);
            }
        }
        tokenBytes = completeLlama4Specials(tokenBytes, nBase, specials);
        ByteStringMap vocabulary;
        try {
            vocabulary = new ByteStringMap(base);
        } catch (IllegalArgumentException e) {
            throw bad(source, e.getMessage());
        }
        int[] byteIds = vocabulary.singleByteIds(b -> bad(source, "model.vocab lacks the single byte 0x" + Integer.toHexString(b)));
        PairMergeTable table = new PairMergeTable(merges.size());
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            Integer left = vocab.get(m[0]);
            Integer right = vocab.get(m[1]);
            Integer merged = vocab.get(m[0] + m[1]);
            if (left == null || right == null || merged == null) {
                throw bad(source, "model.merges[" + i + "] (" + m[0] + ", " + m[1] + ") names a token not in model.vocab");
            }
            table.put(left, right, i, merged);
        }
        BytePairEncoder bpe = new BytePairEncoder(byteIds, vocabulary, table, ignoreMerges);
        return new Tokenizer(tokenBytes, nBase, specials, bpe, pattern, source);
    }

    /**
     * Hugging Face's Llama 4 converter registers only the first 1,134 special tokens by name (SPEC §10.5). When the
     * file's added tokens are exactly a prefix of Llama 4's list placed right after the base vocabulary, the rest
     * follow by the same rule, so every id the model can emit has its text.
     */
    private static byte[][] completeLlama4Specials(byte[][] tokenBytes, int nBase, Map<String, Integer> specials) {
        List<String> llama4 = Llama4SpecialTokens.all();
        if (specials.isEmpty() || tokenBytes.length != nBase + specials.size() || specials.size() >= llama4.size()) {
            return tokenBytes;
        }
        for (Map.Entry<String, Integer> e : specials.entrySet()) {
            int index = e.getValue() - nBase;
            if (index < 0 || !llama4.get(index).equals(e.getKey())) return tokenBytes;
        }
        byte[][] completed = java.util.Arrays.copyOf(tokenBytes, nBase + llama4.size());
        for (int i = specials.size(); i < llama4.size(); i++) {
            completed[nBase + i] = llama4.get(i).getBytes(StandardCharsets.UTF_8);
            specials.put(llama4.get(i), nBase + i);
        }
        return completed;
    }

    private static Map<String, Integer> readVocab(JsonParser p, Path file) throws IOException {
        expect(p, p.currentToken(), JsonToken.START_OBJECT, file, "model.vocab");
        Map<String, Integer> vocab = new HashMap<>(400_000);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String token = p.currentName();
            expect(p, p.nextToken(), JsonToken.VALUE_NUMBER_INT, file, "model.vocab['" + token + "']");
            vocab.put(token, p.getIntValue());
        }
        return vocab;
    }

    /** Merges are either {@code "a b"} strings (older files) or {@code ["a", "b"]} pairs. */
    private static List<String[]> readMerges(JsonParser p, Path file) throws IOException {
        expect(p, p.currentToken(), JsonToken.START_ARRAY, file, "model.merges");
        List<String[]> merges = new ArrayList<>(500_000);
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_STRING) {
                String s = p.getText();
                int space = s.indexOf(' ');
                if (space <= 0) throw bad(file, "model.merges[" + merges.size() + "] '" + s + "'");
                merges.add(new String[]{s.substring(0, space), s.substring(space + 1)});
            } else if (t == JsonToken.START_ARRAY) {
                expect(p, p.nextToken(), JsonToken.VALUE_STRING, file, "model.merges[" + merges.size() + "]");
                String left = p.getText();
                expect(p, p.nextToken(), JsonToken.VALUE_STRING, file, "model.merges[" + merges.size() + "]");
                String right = p.getText();
                expect(p, p.nextToken(), JsonToken.END_ARRAY, file, "model.merges[" + merges.size() + "]");
                merges.add(new String[]{left, right});
            } else {
                throw bad(file, "model.merges[" + merges.size() + "] is " + t);
            }
        }
        return merges;
    }

    /**
     * The regex of the pre-tokenizer: a {@code Split} (behaviour Isolated) possibly inside a {@code Sequence} with a
     * {@code ByteLevel} that does not split again.
     */
    private static String splitPattern(JsonNode preTokenizer, Path file) {
        if (preTokenizer == null || preTokenizer.isNull()) throw bad(file, "pre_tokenizer missing");
        List<JsonNode> steps = new ArrayList<>();
        if ("Sequence".equals(preTokenizer.path("type").asText())) preTokenizer.path("pretokenizers").forEach(steps::add);
        else steps.add(preTokenizer);
        String pattern = null;
        for (JsonNode step : steps) {
            switch (step.path("type").asText()) {
                case "Split" -> {
                    if (pattern != null || !step.path("pattern").has("Regex")
                            || !"Isolated".equals(step.path("behavior").asText()) || step.path("invert").asBoolean()) {
                        throw bad(file, "pre_tokenizer Split is not a single isolated regex: " + step);
                    }
                    pattern = step.path("pattern").path("Regex").asText();
                }
                case "ByteLevel" -> {
                    if (step.path("use_regex").asBoolean(true)) {
                        throw bad(file, "pre_tokenizer ByteLevel with use_regex is not supported");
                    }
                }
                default -> throw bad(file, "pre_tokenizer step " + step.path("type").asText() + " is not supported");
            }
        }
        if (pattern == null) throw bad(file, "pre_tokenizer has no Split regex");
        return pattern;
    }

    private static void expect(JsonParser p, JsonToken actual, JsonToken expected, Path file, String where) {
        if (actual != expected) throw bad(file, where + ": expected " + expected + " but found " + actual);
    }

    private static IllegalArgumentException bad(Path file, String why) { return bad(file.toString(), why); }

    private static IllegalArgumentException bad(String source, String why) {
        return new IllegalArgumentException(source + ": " + why);
    }
}
