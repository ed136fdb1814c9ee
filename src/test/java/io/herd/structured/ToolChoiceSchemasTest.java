package io.herd.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * tool_choice required and named against {@code constraint_json_schema} of the shared prompt vectors; documents
 * generated under them parse as calls (TOOLS.md §6) whose arguments validate against the tool's parameters.
 */
final class ToolChoiceSchemasTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void requiredAndNamedMatchTheVectorsAndAlwaysYieldValidCalls() throws IOException {
        Path file = Path.of(System.getProperty("herd.shared.dir", "../shared")).resolve("llama4/tool_prompt_vectors.json");
        JsonNode vectors = JSON.readTree(file.toFile()).get("vectors");
        ConstraintCompiler compiler = new ConstraintCompiler(JsonSchemaGrammarTest.byteVocabulary());
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
        int checked = 0;
        for (JsonNode v : vectors) {
            if (!v.has("constraint_json_schema")) continue;
            JsonNode request = v.get("request");
            JsonNode tools = request.get("tools");
            JsonNode choice = request.get("tool_choice");
            boolean named = choice.isObject();
            String schema = named ? ToolChoiceSchemas.named(tools, choice.get("function").get("name").asText())
                    : ToolChoiceSchemas.required(tools);
            assertThat(JSON.readTree(schema)).as(v.get("name").asText()).isEqualTo(v.get("constraint_json_schema"));
            OutputGrammar g = compiler.compile(ConstraintSpec.jsonSchema(schema));
            SplittableRandom random = new SplittableRandom(checked);
            for (int i = 0; i < 40; i++) {
                String out = new String(GrammarWalker.walk(g, random, 40), StandardCharsets.UTF_8);
                if (named) {
                    Schema params = registry.getSchema(schema, InputFormat.JSON);
                    assertThat(params.validate(out, InputFormat.JSON)).as(out).isEmpty();
                    continue;
                }
                List<ToolCallParser.ToolCall> calls = ToolCallParser.parse(out);
                assertThat(calls).as(out).isNotNull().isNotEmpty();
                for (ToolCallParser.ToolCall c : calls) {
                    JsonNode tool = null;
                    for (JsonNode t : tools) if (t.get("function").get("name").asText().equals(c.name())) tool = t;
                    assertThat(tool).as(c.name()).isNotNull();
                    Schema params = registry.getSchema(tool.get("function").get("parameters").toString(), InputFormat.JSON);
                    assertThat(params.validate(c.arguments().toString(), InputFormat.JSON)).as(out).isEmpty();
                }
            }
            checked++;
        }
        assertThat(checked).isEqualTo(4);
        assertThatThrownBy(() -> ToolChoiceSchemas.named(vectors.get(0).get("request").get("tools"), "nope"))
                .isInstanceOf(InvalidConstraintException.class).hasMessageContaining("nope");
    }

    @Test
    void keywordsBesideAnyOfApplyToEachBranch() {
        ConstraintCompiler compiler = new ConstraintCompiler(JsonSchemaGrammarTest.byteVocabulary());
        OutputGrammar g = compiler.compile(ConstraintSpec.jsonSchema(
                "{\"type\":[\"integer\",\"string\"],\"anyOf\":[{\"type\":\"number\",\"minimum\":5},{\"type\":\"string\",\"maxLength\":2}]}"));
        assertThat(g.accepts("7".getBytes())).isTrue();
        assertThat(g.accepts("7.5".getBytes())).isFalse(); // integer ∩ number
        assertThat(g.accepts("\"ab\"".getBytes())).isTrue();
        assertThat(g.accepts("\"abc\"".getBytes())).isFalse();
        assertThatThrownBy(() -> compiler.compile(ConstraintSpec.jsonSchema(
                "{\"minimum\":1,\"anyOf\":[{\"minimum\":2},{\"type\":\"string\"}]}")))
                .hasMessageContaining("'minimum'");
    }
}
