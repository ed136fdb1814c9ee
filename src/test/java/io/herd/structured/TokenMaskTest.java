package io.herd.structured;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.herd.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Masks over Llama 4's real 202,048-token vocabulary: tokens that span JSON structure and UTF-8 sequences split
 * across tokens. Random generations sample uniformly among the allowed tokens and must validate; sampled allowed
 * tokens must advance the grammar and sampled refused ones must not.
 */
final class TokenMaskTest {
    private static Tokenizer tokenizer;
    private static TokenVocabulary vocabulary;
    private static int[] singleByteToken;

    @BeforeAll
    static void load() {
        Path file = Path.of(System.getProperty("herd.shared.dir", "../shared")).resolve("llama4/tokenizer.model");
        if (!Files.isRegularFile(file)) throw new IllegalStateException("missing " + file.toAbsolutePath());
        tokenizer = Tokenizer.fromTiktoken(file);
        vocabulary = TokenVocabulary.of(tokenizer);
        singleByteToken = new int[256];
        Arrays.fill(singleByteToken, -1);
        for (int id = 0; id < tokenizer.nBase(); id++) {
            byte[] b = tokenizer.tokenBytes(id);
            if (b.length == 1) singleByteToken[b[0] & 0xFF] = id;
        }
    }

    @Test
    void vocabularyIsLlama4s() {
        assertThat(vocabulary.vocabSize()).isEqualTo(202_048);
        assertThat(Arrays.stream(singleByteToken).allMatch(id -> id >= 0)).isTrue();
    }

    static final List<String> SCHEMAS = List.of(
            JsonSchemaGrammarTest.SCHEMAS.get(0), JsonSchemaGrammarTest.SCHEMAS.get(2),
            JsonSchemaGrammarTest.SCHEMAS.get(3), JsonSchemaGrammarTest.SCHEMAS.get(7),
            """
            {"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":14},
             "units":{"enum":["celsius","fahrenheit"]}},"required":["city","days","units"]}""");

    @Test
    void randomTokenGenerationsValidate() {
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
        ConstraintCompiler compiler = new ConstraintCompiler(vocabulary);
        SplittableRandom random = new SplittableRandom(42);
        for (String schemaText : SCHEMAS) {
            OutputGrammar g = compiler.compile(ConstraintSpec.jsonSchema(schemaText));
            Schema validator = registry.getSchema(schemaText, InputFormat.JSON);
            for (int run = 0; run < 6; run++) {
                String text = generate(g, random, 4 + random.nextInt(30));
                assertThat(validator.validate(text, InputFormat.JSON)).as("generated %s", text).isEmpty();
            }
        }
    }

    @Test
    void regexAndChoiceOverTokens() {
        ConstraintCompiler compiler = new ConstraintCompiler(vocabulary);
        SplittableRandom random = new SplittableRandom(7);
        OutputGrammar r = compiler.compile(ConstraintSpec.regex("[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?"));
        OutputGrammar c = compiler.compile(ConstraintSpec.choice(List.of("positive", "negative", "neutral")));
        for (int run = 0; run < 20; run++) {
            assertThat(generate(r, random, 6)).matches("[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8})?");
            assertThat(generate(c, random, 6)).isIn("positive", "negative", "neutral");
        }
    }

    /** Samples uniformly among allowed tokens; after the budget, spells a byte completion with single-byte tokens. */
    private static String generate(OutputGrammar g, SplittableRandom random, int budget) {
        ConstraintCursor cursor = new ConstraintCursor(g);
        GrammarState state = g.start;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] stops = tokenizer.stopTokenIds();
        for (int step = 0; step < budget; step++) {
            long[] mask = cursor.allowedTokens();
            checkMask(state, mask, random);
            for (int stop : stops) assertThat(bit(mask, stop)).isEqualTo(state.accepting);
            if (state.accepting && random.nextInt(3) == 0) break;
            int token = randomSetBit(mask, random, stops);
            if (token < 0) break; // only stop tokens remain
            cursor.accept(token);
            byte[] bytes = tokenizer.tokenBytes(token);
            out.writeBytes(bytes);
            state = state.step(bytes);
        }
        if (!state.accepting) {
            for (byte b : GrammarWalker.completion(state, out)) {
                int token = singleByteToken[b & 0xFF];
                assertThat(bit(cursor.allowedTokens(), token)).as("single-byte token for %02x", b & 0xFF).isTrue();
                cursor.accept(token);
                out.write(b);
                state = state.step(new byte[]{b});
            }
        }
        assertThat(cursor.complete()).isTrue();
        cursor.accept(stops[0]);
        assertThat(cursor.finished()).isTrue();
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void checkMask(GrammarState state, long[] mask, SplittableRandom random) {
        for (int k = 0; k < 64; k++) {
            int id = random.nextInt(tokenizer.nBase());
            boolean allowed = state.step(tokenizer.tokenBytes(id)) != null;
            assertThat(bit(mask, id)).as("token %d %s", id, new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8))
                    .isEqualTo(allowed);
        }
        for (int id = tokenizer.nBase(); id < tokenizer.vocabSize(); id++) {
            if (!tokenizer.isSpecial(id)) continue;
            if (!isStop(id)) assertThat(bit(mask, id)).isFalse();
        }
    }

    private static boolean isStop(int id) {
        for (int s : tokenizer.stopTokenIds()) if (s == id) return true;
        return false;
    }

    private static boolean bit(long[] mask, int id) { return (mask[id >>> 6] & (1L << id)) != 0; }

    private static int randomSetBit(long[] mask, SplittableRandom random, int[] stops) {
        int n = 0;
        for (long w : mask) n += Long.bitCount(w);
        for (int s : stops) if (bit(mask, s)) n--;
        if (n == 0) return -1;
        int pick = random.nextInt(n);
        for (int id = 0; id < mask.length * 64; id++) {
            if (!bit(mask, id) || isStop(id)) continue;
            if (pick-- == 0) return id;
        }
        throw new AssertionError();
    }
}
