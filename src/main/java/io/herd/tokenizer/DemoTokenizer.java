package io.herd.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small tokenizer for the demo model, in Meta's tiktoken {@code tokenizer.model} format: the 256 single bytes,
 * then BPE merges learned deterministically from a built-in English corpus (Herd's own sentences plus generated
 * ones), {@value #N_BASE} base tokens in all, followed by Llama 4's 2,048 special tokens, so the Llama 4 chat format
 * works unchanged. The same bytes are written on every machine and every run.
 */
public final class DemoTokenizer {
    /** Base (BPE) tokens; special tokens start at this id. */
    public static final int N_BASE = 2816;
    /** Base plus special tokens: the demo model's vocabulary size. */
    public static final int VOCAB_SIZE = N_BASE + Llama4SpecialTokens.COUNT;

    private DemoTokenizer() {}

    /** Writes {@code dir/tokenizer.model} (creating dir) and returns the file. */
    public static Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("tokenizer.model");
            Files.write(file, tokenizerModel());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo tokenizer into " + dir, e);
        }
    }

    /** The file's content: one {@code base64 rank} line per base token. */
    public static byte[] tokenizerModel() { return Learned.FILE.clone(); }

    /** Learned once per JVM, on first use (training takes about a second). */
    private static final class Learned {
        static final byte[] FILE = build();
    }

    private static byte[] build() {
        StringBuilder out = new StringBuilder(N_BASE * 16);
        byte[][] tokens = learn(DemoCorpus.text(), N_BASE);
        for (int rank = 0; rank < tokens.length; rank++) {
            out.append(Base64.getEncoder().encodeToString(tokens[rank])).append(' ').append(rank).append('\n');
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Classic BPE training: split the corpus with the Llama 4 pre-tokenizer, then repeatedly merge the most frequent
     * adjacent pair (ties: the pair of lower ids) into a new token until {@code nBase} tokens exist. A merge whose
     * bytes already form a token reuses it.
     */
    static byte[][] learn(String corpus, int nBase) {
        List<byte[]> tokens = new ArrayList<>(nBase);
        Map<String, Integer> idOfBytes = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            byte[] one = {(byte) b};
            idOfBytes.put(key(one), tokens.size());
            tokens.add(one);
        }
        Map<String, Integer> frequencies = new LinkedHashMap<>();
        Matcher m = Pattern.compile(Tokenizer.LLAMA4_PATTERN, Pattern.UNICODE_CHARACTER_CLASS).matcher(corpus);
        while (m.find()) frequencies.merge(m.group(), 1, Integer::sum);
        int nWords = frequencies.size();
        int[][] words = new int[nWords][];
        int[] lengths = new int[nWords];
        int[] counts = new int[nWords];
        int w = 0;
        for (Map.Entry<String, Integer> e : frequencies.entrySet()) {
            byte[] bytes = e.getKey().getBytes(StandardCharsets.UTF_8);
            words[w] = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) words[w][i] = bytes[i] & 0xFF;
            lengths[w] = bytes.length;
            counts[w] = e.getValue();
            w++;
        }
        // Pair counts are kept up to date incrementally: only words that contain the merged pair change.
        Map<Long, Integer> pairCounts = new HashMap<>();
        for (int i = 0; i < nWords; i++) countPairs(words[i], lengths[i], counts[i], pairCounts);
        while (tokens.size() < nBase) {
            if (pairCounts.isEmpty()) {
                throw new IllegalStateException("demo corpus yields only " + tokens.size() + " of " + nBase + " tokens");
            }
            long best = -1;
            int bestCount = 0;
            for (Map.Entry<Long, Integer> e : pairCounts.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            byte[] merged = concat(tokens.get(left), tokens.get(right));
            Integer id = idOfBytes.get(key(merged));
            if (id == null) {
                id = tokens.size();
                idOfBytes.put(key(merged), id);
                tokens.add(merged);
            }
            for (int i = 0; i < nWords; i++) {
                if (!containsPair(words[i], lengths[i], left, right)) continue;
                countPairs(words[i], lengths[i], -counts[i], pairCounts);
                lengths[i] = replacePairs(words[i], lengths[i], left, right, id);
                countPairs(words[i], lengths[i], counts[i], pairCounts);
            }
        }
        return tokens.toArray(byte[][]::new);
    }

    private static void countPairs(int[] word, int length, int delta, Map<Long, Integer> pairCounts) {
        for (int j = 0; j + 1 < length; j++) {
            long pair = ((long) word[j] << 32) | word[j + 1];
            int updated = pairCounts.getOrDefault(pair, 0) + delta;
            if (updated == 0) pairCounts.remove(pair);
            else pairCounts.put(pair, updated);
        }
    }

    private static boolean containsPair(int[] word, int length, int left, int right) {
        for (int j = 0; j + 1 < length; j++) if (word[j] == left && word[j + 1] == right) return true;
        return false;
    }

    private static int replacePairs(int[] word, int length, int left, int right, int merged) {
        int out = 0;
        for (int j = 0; j < length; j++) {
            if (j + 1 < length && word[j] == left && word[j + 1] == right) {
                word[out++] = merged;
                j++;
            } else {
                word[out++] = word[j];
            }
        }
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static String key(byte[] bytes) { return new String(bytes, StandardCharsets.ISO_8859_1); }
}
