package io.herd.structured;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The schema compiler against an independent validator: random documents of each grammar must validate, random
 * mutations the grammar still accepts must validate too, and hand-made invalid documents must be refused.
 */
final class JsonSchemaGrammarTest {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    /** The vocabulary of single bytes is enough for byte-level checks; masks are tested with the real one. */
    private static final TokenVocabulary BYTES = byteVocabulary();

    static TokenVocabulary byteVocabulary() {
        byte[][] t = new byte[257][];
        for (int b = 0; b < 256; b++) t[b] = new byte[]{(byte) b};
        return new TokenVocabulary(t, new int[]{256});
    }

    static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":150},
             "email":{"type":"string","format":"email"},"tags":{"type":"array","items":{"type":"string","minLength":1,"maxLength":5},"maxItems":3}},
             "required":["name","age"],"additionalProperties":false}""",
            """
            {"type":"object","properties":{"id":{"type":"string","format":"uuid"},"when":{"type":"string","format":"date-time"},
             "day":{"type":"string","format":"date"},"at":{"type":"string","format":"time"}},"required":["id","when","day","at"]}""",
            """
            {"type":"array","prefixItems":[{"type":"boolean"},{"type":"null"},{"const":"x"}],"items":{"type":"number","exclusiveMinimum":-1.5,"exclusiveMaximum":2.25},
             "minItems":4,"maxItems":7}""",
            """
            {"anyOf":[{"type":"string","pattern":"^[A-Z]{2}-\\\\d{3,5}$"},{"type":"integer","exclusiveMinimum":10,"maximum":99},{"enum":["red","green",3,null,true,{"a":[1,2]}]}]}""",
            """
            {"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
             "required":["value"]}},"$ref":"#/$defs/node"}""",
            """
            {"type":["string","null","number"],"minLength":2,"maxLength":4,"minimum":-3,"maximum":3}""",
            """
            {"type":"object","additionalProperties":{"type":"integer","minimum":5,"maximum":5000},"maxProperties":null}""".replace(",\"maxProperties\":null", ""),
            """
            {"type":"object","properties":{"kind":{"oneOf":[{"const":"a"},{"const":"b"}]},"score":{"type":"number","minimum":0,"maximum":1},
             "note":{"type":["string","null"],"pattern":"é+|ü"}},"required":["kind","score","note"]}""",
            """
            {"type":"string","minLength":3,"maxLength":3}""",
            """
            {"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"array","items":{"type":"array","items":{"type":"integer","minimum":-20,"exclusiveMaximum":-10},"minItems":1}}},"required":["b"]}},
             "required":["a"],"title":"nested","description":"annotations are ignored"}""",
            """
            {"type":"integer","minimum":123456,"maximum":123460}""",
            """
            {"type":"number","minimum":0.001,"maximum":0.002}""",
            """
            {"type":"object","required":["extra"],"properties":{}}""",
            """
            {}""");

    static List<String> schemas() { return SCHEMAS; }

    @ParameterizedTest
    @MethodSource("schemas")
    void randomDocumentsValidate(String schemaText) {
        OutputGrammar g = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonSchema(schemaText));
        Schema validator = REGISTRY.getSchema(schemaText, InputFormat.JSON);
        SplittableRandom random = new SplittableRandom(schemaText.hashCode());
        for (int i = 0; i < 150; i++) {
            byte[] doc = GrammarWalker.walk(g, random, 1 + random.nextInt(60));
            String text = new String(doc, StandardCharsets.UTF_8);
            assertThat(new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(text);
            List<Error> errors = validator.validate(text, InputFormat.JSON);
            assertThat(errors).as("document %s", text).isEmpty();
            assertThat(g.accepts(doc)).isTrue();
            checkMutants(g, validator, doc, random);
        }
    }

    /** Whatever the grammar accepts must be valid: single-byte edits of a valid document probe its edges. */
    private static void checkMutants(OutputGrammar g, Schema validator, byte[] doc, SplittableRandom random) {
        byte[] alphabet = "{}[]\",:0123456789.-eE truefalsn\\xé".getBytes(StandardCharsets.UTF_8);
        for (int k = 0; k < 4; k++) {
            byte[] m;
            int at = random.nextInt(doc.length + 1);
            byte c = alphabet[random.nextInt(alphabet.length)];
            switch (random.nextInt(3)) {
                case 0 -> { // insert
                    m = new byte[doc.length + 1];
                    System.arraycopy(doc, 0, m, 0, at);
                    m[at] = c;
                    System.arraycopy(doc, at, m, at + 1, doc.length - at);
                }
                case 1 -> { // delete
                    if (doc.length == 0 || at == doc.length) continue;
                    m = new byte[doc.length - 1];
                    System.arraycopy(doc, 0, m, 0, at);
                    System.arraycopy(doc, at + 1, m, at, doc.length - at - 1);
                }
                default -> {
                    if (at == doc.length) continue;
                    m = doc.clone();
                    m[at] = c;
                }
            }
            if (g.accepts(m)) {
                String text = new String(m, StandardCharsets.UTF_8);
                assertThat(validator.validate(text, InputFormat.JSON)).as("accepted mutant %s", text).isEmpty();
            }
        }
    }

    @Test
    void invalidDocumentsAreRefused() {
        String person = SCHEMAS.getFirst();
        OutputGrammar g = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonSchema(person));
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":30}", true);
        assertAccepts(g, "{ \"name\" : \"Ann\" , \"age\" : 30 , \"tags\" : [ \"a\" ] }", true);
        assertAccepts(g, "{\"age\":30,\"name\":\"Ann\"}", false); // declaration order
        assertAccepts(g, "{\"name\":\"Ann\"}", false); // missing required
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":151}", false); // maximum
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":-1}", false); // minimum
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":3.5}", false); // integer
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":30,\"x\":1}", false); // additionalProperties false
        assertAccepts(g, "{\"name\":\"Annabelle Smith\",\"age\":30}", false); // maxLength
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":30,\"tags\":[\"a\",\"b\",\"c\",\"d\"]}", false); // maxItems
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":30,\"tags\":[\"\"]}", false); // minLength
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":30,\"email\":\"not-an-email\"}", false);
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":30,}", false);
        assertAccepts(g, "{\"name\":\"A\u0001\",\"age\":30}", false); // raw control character
        assertAccepts(g, "{\"name\":\"A\\n\",\"age\":30}", true);
        assertAccepts(g, "{\"name\":\"Ann\",\"age\":030}", false);
        assertAccepts(g, "{" + " ".repeat(21) + "\"name\":\"Ann\",\"age\":30}", false); // blank runs are bounded
        assertAccepts(g, "{" + " ".repeat(20) + "\"name\":\"Ann\",\"age\":30}", true);

        OutputGrammar ids = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonSchema(SCHEMAS.get(1)));
        String ok = "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"when\":\"2024-02-28T23:59:59Z\",\"day\":\"1999-12-01\",\"at\":\"00:00:00+05:30\"}";
        assertAccepts(ids, ok, true);
        assertAccepts(ids, ok.replace("2024-02-28T", "2024-13-28T"), false);
        assertAccepts(ids, ok.replace("426614174000", "42661417400"), false);
        assertAccepts(ids, ok.replace("00:00:00+", "24:00:00+"), false);

        OutputGrammar any = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonSchema(SCHEMAS.get(3)));
        assertAccepts(any, "\"AB-123\"", true);
        assertAccepts(any, "\"AB-12\"", false);
        assertAccepts(any, "11", true);
        assertAccepts(any, "10", false);
        assertAccepts(any, "{\"a\":[1,2]}", true);
        assertAccepts(any, "{\"a\":[1,3]}", false);
        assertAccepts(any, "null", true);

        OutputGrammar num = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonSchema(SCHEMAS.get(11)));
        assertAccepts(num, "0.0015", true);
        assertAccepts(num, "0.0021", false);
        assertAccepts(num, "0.002", true);
        assertAccepts(num, "1e-3", false); // no exponents
    }

    @Test
    void partialUtf8IsOnlyAllowedWhereItCanComplete() {
        OutputGrammar g = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonSchema("{\"type\":\"string\",\"pattern\":\"^é+$\"}"));
        GrammarState open = g.start.step('"');
        assertThat(GrammarWalker.allowedBytes(open)).containsExactly(0xC3); // é is C3 A9
        assertThat(GrammarWalker.allowedBytes(open.step(0xC3))).containsExactly(0xA9);
        assertAccepts(g, "\"éé\"", true);
        OutputGrammar s = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonSchema("{\"type\":\"string\",\"maxLength\":1}"));
        assertAccepts(s, "\"\uD83D\uDE00\"", true); // one code point, four bytes
        assertAccepts(s, "\"ab\"", false);
        assertThat(s.acceptsPrefix(new byte[]{'"', (byte) 0xED, (byte) 0xA0})).isFalse(); // a surrogate
        assertThat(s.acceptsPrefix(new byte[]{'"', (byte) 0xC0})).isFalse(); // overlong
    }

    @Test
    void unsupportedKeywordsAreRefusedByName() {
        ConstraintCompiler c = new ConstraintCompiler(BYTES);
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"type\":\"object\",\"patternProperties\":{}}")))
                .isInstanceOf(InvalidConstraintException.class).hasMessageContaining("'patternProperties'");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"type\":\"array\",\"uniqueItems\":true}")))
                .hasMessageContaining("'uniqueItems'");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"type\":\"string\",\"format\":\"ipv4\"}")))
                .hasMessageContaining("'ipv4'");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"type\":\"string\",\"pattern\":\"(a)\\\\1\"}")))
                .hasMessageContaining("back-references");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"type\":\"integer\",\"minimum\":2,\"maximum\":1}")))
                .hasMessageContaining("admits no value");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"$ref\":\"#\"}")))
                .hasMessageContaining("cycle");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#\"}},\"required\":[\"a\"]}")))
                .hasMessageContaining("admits no value");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"$ref\":\"http://example.com/s.json\"}")))
                .hasMessageContaining("$ref");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{\"type\":\"stirng\"}")))
                .hasMessageContaining("stirng");
        assertThatThrownBy(() -> c.compile(ConstraintSpec.jsonSchema("{not json")))
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void regexAndChoiceMatchTheWholeOutput() {
        ConstraintCompiler c = new ConstraintCompiler(BYTES);
        OutputGrammar r = c.compile(ConstraintSpec.regex("(yes|no)\\.[0-9]{2}"));
        assertAccepts(r, "yes.12", true);
        assertAccepts(r, "no.1", false);
        assertAccepts(r, "xyes.12", false);
        OutputGrammar ch = c.compile(ConstraintSpec.choice(List.of("positive", "negative", "neutral", "pos")));
        assertAccepts(ch, "pos", true);
        assertAccepts(ch, "positive", true);
        assertAccepts(ch, "posit", false);
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 50; i++) {
            String out = new String(GrammarWalker.walk(r, random, 20), StandardCharsets.UTF_8);
            assertThat(out).matches("(yes|no)\\.[0-9]{2}");
        }
        assertThat(c.compile(ConstraintSpec.regex("(yes|no)\\.[0-9]{2}"))).isSameAs(r); // cached by hash
    }

    @Test
    void jsonObjectIsAnyObject() {
        OutputGrammar g = new ConstraintCompiler(BYTES).compile(ConstraintSpec.jsonObject());
        assertAccepts(g, "{}", true);
        assertAccepts(g, "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", true);
        assertAccepts(g, "[1]", false);
        assertAccepts(g, "\"s\"", false);
    }

    private static void assertAccepts(OutputGrammar g, String doc, boolean expected) {
        assertThat(g.accepts(doc.getBytes(StandardCharsets.UTF_8))).as("%s on %s", g, doc).isEqualTo(expected);
    }
}
