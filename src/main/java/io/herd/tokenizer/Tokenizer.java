package io.herd.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Llama 4 BPE tokenizer over a loaded vocabulary (SPEC §10). Immutable and thread-safe.
 *
 * <p>Encoding treats its input as plain text in every case: special-token strings such as {@code <|eot|>} inside the
 * text are encoded byte by byte like any other text, so user content cannot inject control tokens (Meta's reference
 * behaviour; Hugging Face's tokenizer would match them, Herd does not, whichever file the vocabulary came from).
 * Special tokens enter a sequence only as ids, through {@link ChatFormat} or {@link #bosId()}.
 */
public final class Tokenizer {
    /** The o200k-style pre-tokenizer of Llama 4, exactly as published (SPEC §10.2). */
    public static final String LLAMA4_PATTERN =
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    // Meta's reference cuts text into windows and bounds runs of (non-)whitespace before the regex (SPEC §10.4);
    // both bounds count code points.
    private static final int MAX_ENCODE_CHARS = 400_000;
    private static final int MAX_CONSECUTIVE_CHARS = 25_000;
    // Pre-token → ids cache: natural text repeats its words, so most pieces skip BPE entirely.
    private static final int CACHE_MAX_ENTRIES = 1 << 16;
    private static final int CACHE_MAX_PIECE_CHARS = 64;

    private final byte[][] tokenBytes;
    private final int nBase;
    private final BitSet specialIds;
    private final Map<String, Integer> specialTokens;
    private final BytePairEncoder bpe;
    private final Pattern preTokenizer;
    private final String source;
    private final ConcurrentHashMap<String, int[]> pieceCache = new ConcurrentHashMap<>();

    Tokenizer(byte[][] tokenBytes, int nBase, Map<String, Integer> specialTokens, BytePairEncoder bpe,
              String pattern, String source) {
        this.tokenBytes = tokenBytes;
        this.nBase = nBase;
        this.specialTokens = Map.copyOf(specialTokens);
        this.specialIds = new BitSet(tokenBytes.length);
        specialTokens.values().forEach(specialIds::set);
        this.bpe = bpe;
        this.preTokenizer = Pattern.compile(pattern, Pattern.UNICODE_CHARACTER_CLASS);
        this.source = source;
    }

    /**
     * Loads the tokenizer of a checkpoint directory: {@code tokenizer.model} (Meta's tiktoken form) if present, else
     * {@code tokenizer.json} (Hugging Face), else {@code original/tokenizer.model}.
     *
     * @throws IllegalArgumentException when the directory has none of them, or a file is malformed (the message
     *                                  names the file and the line or field)
     */
    public static Tokenizer load(Path checkpointDir) {
        Path file = find(checkpointDir);
        if (file == null) {
            throw new IllegalArgumentException("no tokenizer.model or tokenizer.json in " + checkpointDir);
        }
        return file.getFileName().toString().endsWith(".json") ? fromHuggingFace(file) : fromTiktoken(file);
    }

    /** Whether {@link #load} would find a tokenizer file in the directory. */
    public static boolean isPresent(Path checkpointDir) { return find(checkpointDir) != null; }

    private static Path find(Path dir) {
        for (String name : new String[]{"tokenizer.model", "tokenizer.json", "original/tokenizer.model"}) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) return candidate;
        }
        return null;
    }

    /** Meta's {@code tokenizer.model}: base64 bytes and rank per line, followed by Llama 4's 2,048 special tokens. */
    public static Tokenizer fromTiktoken(Path file) {
        try {
            return TiktokenFile.load(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** A Hugging Face {@code tokenizer.json} with a byte-level BPE model and a Split-regex pre-tokenizer. */
    public static Tokenizer fromHuggingFace(Path file) {
        try {
            return HuggingFaceTokenizerFile.load(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * The vocabulary of a llama.cpp GGUF ({@code tokenizer.ggml.model, pre, tokens, token_type, merges}); see
     * {@link GgufTokenizerVocabulary}. {@code source} names the file in error messages.
     */
    public static Tokenizer fromGgufVocabulary(String model, String pre, List<String> tokens, long[] tokenTypes,
                                               List<String> merges, String source) {
        return GgufTokenizerVocabulary.build(model, pre, tokens, tokenTypes, merges, source);
    }

    /** Encodes plain text (no BOS/EOS; special-token strings are ordinary text). */
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 4);
        encodeInto(text, out);
        return out.toArray();
    }

    /** Meta's {@code encode(text, bos, eos)}: plain text, optionally wrapped in BOS / EOS ids. */
    public int[] encode(String text, boolean bos, boolean eos) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (bos) out.add(bosId());
        encodeInto(text, out);
        if (eos) out.add(eosId());
        return out.toArray();
    }

    void encodeInto(String text, IntList out) {
        int windowStart = 0;
        while (windowStart < text.length()) {
            int windowEnd = offsetByCodePoints(text, windowStart, MAX_ENCODE_CHARS);
            encodeWindow(text, windowStart, windowEnd, out);
            windowStart = windowEnd;
        }
    }

    /** Splits a window wherever a run of whitespace or non-whitespace would exceed its bound, as Meta does. */
    private void encodeWindow(String text, int from, int to, IntList out) {
        int sliceStart = from;
        int runLength = 0;
        boolean runIsSpace = from < to && isPythonSpace(text.codePointAt(from));
        for (int i = from; i < to; ) {
            int cp = text.codePointAt(i);
            boolean space = isPythonSpace(cp);
            if (space != runIsSpace) {
                runLength = 1;
                runIsSpace = space;
            } else if (++runLength > MAX_CONSECUTIVE_CHARS) {
                encodeSlice(text, sliceStart, i, out);
                sliceStart = i;
                runLength = 1;
            }
            i += Character.charCount(cp);
        }
        encodeSlice(text, sliceStart, to, out);
    }

    private void encodeSlice(String text, int from, int to, IntList out) {
        if (from == to) return;
        Matcher m = preTokenizer.matcher(text).region(from, to);
        while (m.find()) {
            int start = m.start();
            int end = m.end();
            if (start == end) continue;
            String piece = text.substring(start, end);
            int[] cached = piece.length() <= CACHE_MAX_PIECE_CHARS ? pieceCache.get(piece) : null;
            if (cached != null) {
                out.addAll(cached);
                continue;
            }
            byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
            int before = out.size();
            bpe.encode(bytes, bytes.length, out);
            if (piece.length() <= CACHE_MAX_PIECE_CHARS) {
                if (pieceCache.size() >= CACHE_MAX_ENTRIES) pieceCache.clear();
                pieceCache.put(piece, out.copyRange(before));
            }
        }
    }

    /** The pre-tokens of a text (regex matches), for tests and diagnostics. */
    List<String> preTokenize(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = preTokenizer.matcher(text);
        while (m.find()) if (m.end() > m.start()) pieces.add(m.group());
        return pieces;
    }

    BytePairEncoder bytePairEncoder() { return bpe; }

    /** Python's {@code str.isspace}: bidi class WS/B/S or category Zs. */
    private static boolean isPythonSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85 || (cp >= 0x1C && cp <= 0x1F);
    }

    private static int offsetByCodePoints(String text, int from, int codePoints) {
        if (text.length() - from <= codePoints || text.codePointCount(from, text.length()) <= codePoints) {
            return text.length();
        }
        return text.offsetByCodePoints(from, codePoints);
    }

    /** Bytes of every id concatenated (special ids as their literal text), decoded as UTF-8 with U+FFFD. */
    public String decode(int[] ids) {
        int length = 0;
        for (int id : ids) length += bytes(id).length;
        byte[] all = new byte[length];
        int at = 0;
        for (int id : ids) {
            byte[] b = bytes(id);
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        return new String(all, StandardCharsets.UTF_8);
    }

    /** The raw bytes of one token (a copy); a special token's are its UTF-8 text. */
    public byte[] tokenBytes(int id) { return bytes(id).clone(); }

    byte[] bytes(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of " + source);
        }
        return tokenBytes[id];
    }

    /** Ids 0 … vocabSize-1 (base tokens and special tokens). */
    public int vocabSize() { return tokenBytes.length; }

    /** Number of BPE tokens; the special tokens follow them. */
    public int nBase() { return nBase; }

    public boolean isSpecial(int id) { return specialIds.get(id); }

    /** The id of a special token such as {@code <|eot|>}. */
    public int specialTokenId(String token) {
        Integer id = specialTokens.get(token);
        if (id == null) throw new IllegalArgumentException("special token " + token + " is not defined by " + source);
        return id;
    }

    public boolean hasSpecialToken(String token) { return specialTokens.containsKey(token); }

    public int bosId() { return specialTokenId(Llama4SpecialTokens.BEGIN_OF_TEXT); }

    public int eosId() { return specialTokenId(Llama4SpecialTokens.END_OF_TEXT); }

    /** Ids that end generation: end of text, end of message, end of turn (those the vocabulary defines). */
    public int[] stopTokenIds() {
        return Arrays.stream(new String[]{Llama4SpecialTokens.END_OF_TEXT, Llama4SpecialTokens.EOM,
                        Llama4SpecialTokens.EOT})
                .filter(specialTokens::containsKey).mapToInt(specialTokens::get).toArray();
    }

    /** The file this vocabulary came from, for messages. */
    public String source() { return source; }
}
