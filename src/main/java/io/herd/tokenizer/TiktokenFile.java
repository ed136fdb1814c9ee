package io.herd.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads Meta's tiktoken {@code tokenizer.model} (SPEC §10.1): {@code <base64 bytes> <rank>} per line, blank lines
 * skipped; the rank is the token id. Llama 4's special tokens follow as ids nBase … nBase+2047.
 */
final class TiktokenFile {
    private TiktokenFile() {}

    static Tokenizer load(Path file) throws IOException {
        List<byte[]> byRank = new ArrayList<>(200_000);
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                String trimmed = line.strip();
                if (trimmed.isEmpty()) continue;
                String[] fields = trimmed.split("\\s+");
                if (fields.length != 2) throw malformed(file, lineNumber, "expected '<base64> <rank>'");
                byte[] bytes;
                int rank;
                try {
                    bytes = Base64.getDecoder().decode(fields[0]);
                    rank = Integer.parseInt(fields[1]);
                } catch (IllegalArgumentException e) {
                    throw malformed(file, lineNumber, e.getMessage());
                }
                if (bytes.length == 0) throw malformed(file, lineNumber, "empty token");
                if (rank < 0 || rank > 50_000_000) throw malformed(file, lineNumber, "rank " + rank);
                while (byRank.size() <= rank) byRank.add(null);
                if (byRank.get(rank) != null) throw malformed(file, lineNumber, "rank " + rank + " repeated");
                byRank.set(rank, bytes);
            }
        }
        int nBase = byRank.size();
        for (int rank = 0; rank < nBase; rank++) {
            if (byRank.get(rank) == null) {
                throw new IllegalArgumentException(file + ": ranks are not dense, rank " + rank + " is missing");
            }
        }
        return build(byRank.toArray(byte[][]::new), file.toString());
    }

    /** Builds a tokenizer whose merge priority is the merged token's rank, as tiktoken does. */
    static Tokenizer build(byte[][] baseTokens, String source) {
        int nBase = baseTokens.length;
        ByteStringMap vocabulary;
        try {
            vocabulary = new ByteStringMap(baseTokens);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
        int[] byteIds = vocabulary.singleByteIds(
                b -> new IllegalArgumentException(source + ": single byte 0x" + Integer.toHexString(b) + " is not a token"));
        // Every way of splitting a token into two tokens is a merge with the token's rank as priority. Parts are
        // always tokens, so this pair table reproduces "merge the adjacent pair whose concatenation ranks lowest".
        IntList pairs = new IntList(nBase * 6);
        for (int id = 0; id < nBase; id++) {
            byte[] t = baseTokens[id];
            for (int k = 1; k < t.length; k++) {
                int left = vocabulary.get(t, 0, k);
                if (left < 0) continue;
                int right = vocabulary.get(t, k, t.length);
                if (right < 0) continue;
                pairs.add(left);
                pairs.add(right);
                pairs.add(id);
            }
        }
        int[] p = pairs.toArray();
        PairMergeTable merges = new PairMergeTable(p.length / 3);
        for (int i = 0; i < p.length; i += 3) merges.put(p[i], p[i + 1], p[i + 2], p[i + 2]);

        List<String> specials = Llama4SpecialTokens.all();
        byte[][] all = new byte[nBase + specials.size()][];
        System.arraycopy(baseTokens, 0, all, 0, nBase);
        Map<String, Integer> specialIds = new HashMap<>();
        for (int i = 0; i < specials.size(); i++) {
            all[nBase + i] = specials.get(i).getBytes(StandardCharsets.UTF_8);
            specialIds.put(specials.get(i), nBase + i);
        }
        BytePairEncoder bpe = new BytePairEncoder(byteIds, vocabulary, merges, true);
        return new Tokenizer(all, nBase, specialIds, bpe, Tokenizer.LLAMA4_PATTERN, source);
    }

    private static IllegalArgumentException malformed(Path file, int line, String why) {
        return new IllegalArgumentException(file + " line " + line + ": " + why);
    }
}
