package io.herd.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.cli.gguf.GgufWriter;
import io.herd.tokenizer.ChatFormat;
import io.herd.tokenizer.ChatMessage;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.gguf.GgufCheckpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tokenizer a GGUF carries: the published Llama 4 tokenizer.json laid out as llama.cpp's converter writes it
 * (tokens by id, control type for the added special tokens, merges as "left right", model gpt2, pre llama4), written
 * to a GGUF file and read back, gives the shared vectors' ids and the same chat prompt as the Hugging Face file.
 */
class Llama4GgufTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private static Tokenizer fromGguf;
    private static Tokenizer fromJson;
    private static Path file;

    private static Path shared(String name) {
        return Fixtures.sharedDir().resolve("llama4").resolve(name);
    }

    @BeforeAll
    static void writeGguf() throws IOException {
        JsonNode root = JSON.readTree(shared("tokenizer.json").toFile());
        JsonNode vocab = root.get("model").get("vocab");
        int size = vocab.size() + root.get("added_tokens").size();
        String[] tokens = new String[size];
        int[] types = new int[size];
        vocab.properties().forEach(e -> { tokens[e.getValue().asInt()] = e.getKey(); types[e.getValue().asInt()] = 1; });
        for (JsonNode t : root.get("added_tokens")) {
            tokens[t.get("id").asInt()] = t.get("content").asText();
            types[t.get("id").asInt()] = t.get("special").asBoolean() ? 3 : 4;
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : root.get("model").get("merges"))
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        file = dir.resolve("tokenizer.gguf");
        new GgufWriter().putString("general.architecture", "llama4")
                .putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "llama4")
                .putStringArray("tokenizer.ggml.tokens", Arrays.asList(tokens))
                .putInt32Array("tokenizer.ggml.token_type", types)
                .putStringArray("tokenizer.ggml.merges", merges)
                .write(file);
        try (GgufCheckpoint g = GgufCheckpoint.open(file)) {
            fromGguf = Llama4Checkpoint.tokenizerOf(g.metadata());
        }
        fromJson = Tokenizer.fromHuggingFace(shared("tokenizer.json"));
    }

    @Test
    void encodesEverySharedVector() throws IOException {
        JsonNode vectors = JSON.readTree(shared("tokenizer_test_vectors.json").toFile());
        assertThat(fromGguf.vocabSize()).isEqualTo(vectors.get("n_words").asInt());
        assertThat(fromGguf.nBase()).isEqualTo(vectors.get("n_base").asInt());
        int checked = 0;
        for (JsonNode v : vectors.get("vectors")) {
            if (v.has("allowed_special")) continue;
            String text = v.get("text").asText();
            int[] want = new int[v.get("ids").size()];
            for (int i = 0; i < want.length; i++) want[i] = v.get("ids").get(i).asInt();
            int[] ids = fromGguf.encode(text);
            assertThat(ids).as("ids of %s", text).containsExactly(want);
            assertThat(fromGguf.decode(ids)).isEqualTo(text);
            checked++;
        }
        assertThat(checked).isEqualTo(16);
    }

    @Test
    void specialTokensAndChatFormatAsTheHuggingFaceFile() {
        assertThat(fromGguf.bosId()).isEqualTo(fromJson.bosId());
        assertThat(fromGguf.stopTokenIds()).containsExactly(fromJson.stopTokenIds());
        var dialog = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Héllo <|eot|> wörld 123"));
        assertThat(new ChatFormat(fromGguf).encodeDialogPrompt(dialog))
                .containsExactly(new ChatFormat(fromJson).encodeDialogPrompt(dialog));
        for (int id : new int[] {0, 1234, 199999, 200000, 200008, 202047})
            assertThat(fromGguf.tokenBytes(id)).as("token %d", id).isEqualTo(fromJson.tokenBytes(id));
    }

    @Test
    void refusesVocabulariesItCannotReproduce() {
        List<String> tokens = List.of("a", "b");
        assertThatThrownBy(() -> Tokenizer.fromGgufVocabulary("llama", "llama4", tokens, new long[] {1, 1}, List.of(), "x.gguf"))
                .hasMessageContaining("gpt2");
        assertThatThrownBy(() -> Tokenizer.fromGgufVocabulary("gpt2", "qwen2", tokens, new long[] {1, 1}, List.of(), "x.gguf"))
                .hasMessageContaining("llama4 only");
        assertThatThrownBy(() -> Tokenizer.fromGgufVocabulary("gpt2", "llama4", tokens, new long[] {1}, List.of(), "x.gguf"))
                .hasMessageContaining("token_type");
        assertThatThrownBy(() -> Tokenizer.fromGgufVocabulary("gpt2", "llama4", tokens, new long[] {1, 1}, List.of(), "x.gguf"))
                .hasMessageContaining("single byte");
    }
}
