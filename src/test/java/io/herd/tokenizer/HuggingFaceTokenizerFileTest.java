package io.herd.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tokenizer.json reader on small hand-made files: merge priorities, both merge spellings, errors. */
class HuggingFaceTokenizerFileTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** GPT-2's byte → character map, written out independently of the reader. */
    private static String byteLevel(String text) {
        StringBuilder sb = new StringBuilder();
        for (byte raw : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) sb.append(charOf(raw & 0xFF));
        return sb.toString();
    }

    private static boolean printable(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; }

    /** Printable bytes stand for themselves; the others are 256, 257, … in byte order. */
    private static String charOf(int b) {
        if (printable(b)) return String.valueOf((char) b);
        int extra = 0;
        for (int c = 0; c < b; c++) if (!printable(c)) extra++;
        return String.valueOf((char) (256 + extra));
    }

    /** Bytes as ids 0–255, then he, ll, hell, " w"; the first nSpecials Llama 4 special tokens after them. */
    private static Path write(Path dir, boolean stringMerges, int nSpecials, String pretokenizerType) throws Exception {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < nSpecials; i++) {
            added.addObject().put("id", 260 + i).put("content", Llama4SpecialTokens.all().get(i)).put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", pretokenizerType).put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", Tokenizer.LLAMA4_PATTERN);
        steps.addObject().put("type", "ByteLevel").put("use_regex", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) vocab.put(charOf(b), b);
        vocab.put("he", 256).put("ll", 257).put("hell", 258).put(byteLevel(" w"), 259);
        ArrayNode merges = model.putArray("merges");
        String[][] pairs = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {byteLevel(" "), "w"}};
        for (String[] p : pairs) {
            if (stringMerges) merges.add(p[0] + " " + p[1]);
            else merges.addArray().add(p[0]).add(p[1]);
        }
        model.put("ignore_merges", false);
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, root.toString());
        return file;
    }

    @Test
    void mergesInListOrderWithEitherSpelling(@TempDir Path dir) throws Exception {
        for (boolean stringMerges : new boolean[]{true, false}) {
            Tokenizer t = Tokenizer.load(write(dir, stringMerges, Llama4SpecialTokens.COUNT, "Split").getParent());
            assertThat(t.encode("hello world")).containsExactly(258, 'o', 259, 'o', 'r', 'l', 'd');
            assertThat(t.decode(t.encode("hello world"))).isEqualTo("hello world");
            assertThat(t.nBase()).isEqualTo(260);
            assertThat(t.vocabSize()).isEqualTo(260 + Llama4SpecialTokens.COUNT);
        }
    }

    @Test
    void completesAPrefixOfTheLlama4SpecialTokens(@TempDir Path dir) throws Exception {
        Tokenizer t = Tokenizer.fromHuggingFace(write(dir, false, 20, "Split"));
        assertThat(t.vocabSize()).isEqualTo(260 + Llama4SpecialTokens.COUNT);
        assertThat(t.specialTokenId("<|eot|>")).isEqualTo(268);
        assertThat(t.specialTokenId("<|reserved_special_token_903|>")).isEqualTo(260 + 2047);
        assertThat(t.decode(new int[]{260 + 1134})).isEqualTo("<|reasoning_reserved_special_token_0|>");
        assertThat(t.stopTokenIds()).containsExactly(261, 267, 268);
    }

    @Test
    void namesTheFileAndFieldOfWhatItCannotRead(@TempDir Path dir) throws Exception {
        Path file = write(dir, false, 10, "Whitespace");
        assertThatThrownBy(() -> Tokenizer.fromHuggingFace(file))
                .hasMessageContaining("tokenizer.json").hasMessageContaining("pre_tokenizer step Whitespace");
        Path broken = write(dir, true, 10, "Split");
        Files.writeString(broken, Files.readString(broken).replace("\"he ll\"", "\"he lx\""));
        assertThatThrownBy(() -> Tokenizer.fromHuggingFace(broken))
                .hasMessageContaining("model.merges[2]").hasMessageContaining("not in model.vocab");
    }
}
