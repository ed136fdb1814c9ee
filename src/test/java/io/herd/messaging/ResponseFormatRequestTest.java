package io.herd.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.serving.CompletionRequest;
import io.herd.serving.PreparedRequest;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.RequestValidator;
import io.herd.serving.ServingLimits;
import io.herd.serving.TokenizerPromptCodec;
import io.herd.structured.ConstraintCompiler;
import io.herd.structured.ConstraintSpec;
import io.herd.structured.TokenVocabulary;
import io.herd.tokenizer.DemoTokenizer;
import io.herd.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** response_format and the penalties from a request record to the engine request. */
class ResponseFormatRequestTest {
    @TempDir
    static Path dir;
    private static RequestValidator validator;
    private static final RequestCodec CODEC = new RequestCodec(new ObjectMapper());

    @BeforeAll
    static void setUp() {
        DemoTokenizer.write(dir);
        Tokenizer tokenizer = Tokenizer.load(dir);
        validator = new RequestValidator(new ServingLimits(4096, 1024, 256, Set.of("demo"), 4),
                new TokenizerPromptCodec(tokenizer, tokenizer.stopTokenIds()),
                new ConstraintCompiler(TokenVocabulary.of(tokenizer)));
    }

    @Test
    void jsonSchemaReachesTheEngineCompiled() {
        String record = """
                {"id":"r1","prompt":"hi","response_format":{"type":"json_schema","json_schema":{"name":"w","strict":true,
                 "schema":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}}},
                 "presence_penalty":0.5,"frequency_penalty":-0.25,"repetition_penalty":1.1}""";
        CompletionRequest r = CODEC.decode("r1", record);
        assertThat(r.responseFormat().kind()).isEqualTo(ConstraintSpec.Kind.JSON_SCHEMA);
        PreparedRequest p = validator.prepare(r);
        assertThat(p.engineRequest().constraint()).isNotNull();
        assertThat(p.engineRequest().constraint().accepts("{\"a\":1}".getBytes())).isTrue();
        assertThat(p.engineRequest().sampling().presencePenalty()).isEqualTo(0.5f);
        assertThat(p.engineRequest().sampling().frequencyPenalty()).isEqualTo(-0.25f);
        assertThat(p.engineRequest().sampling().repetitionPenalty()).isEqualTo(1.1f);
    }

    @Test
    void logitBiasMinTokensAndIgnoreEos() {
        PreparedRequest p = validator.prepare(CODEC.decode("r", """
                {"id":"r","prompt":"x","max_tokens":20,"logit_bias":{"17":5.5,"300":-100},"min_tokens":4,"ignore_eos":true}"""));
        assertThat(p.engineRequest().sampling().logitBiasIds()).containsExactly(17, 300);
        assertThat(p.engineRequest().sampling().logitBiasValues()).containsExactly(5.5f, -100f);
        assertThat(p.engineRequest().sampling().minTokens()).isEqualTo(4);
        assertThat(p.engineRequest().sampling().stopTokenIds()).isEmpty();
        rejected("{\"id\":\"r\",\"prompt\":\"x\",\"logit_bias\":{\"99999999\":1}}", "invalid_parameter");
        rejected("{\"id\":\"r\",\"prompt\":\"x\",\"logit_bias\":{\"5\":101}}", "invalid_parameter");
        rejected("{\"id\":\"r\",\"prompt\":\"x\",\"logit_bias\":{\"a\":1}}", "invalid_type");
        rejected("{\"id\":\"r\",\"prompt\":\"x\",\"max_tokens\":3,\"min_tokens\":4}", "invalid_parameter");
        rejected("{\"id\":\"r\",\"prompt\":\"x\",\"ignore_eos\":true,\"response_format\":{\"type\":\"json_object\"}}",
                "invalid_parameter");
    }

    private static void rejected(String record, String code) {
        assertThatThrownBy(() -> validator.prepare(CODEC.decode("r", record)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    @Test
    void otherShapes() {
        assertThat(CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"response_format\":{\"type\":\"json_object\"}}")
                .responseFormat()).isEqualTo(ConstraintSpec.jsonObject());
        assertThat(CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"response_format\":{\"type\":\"text\"}}")
                .responseFormat()).isNull();
        assertThat(CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"response_format\":{\"type\":\"regex\",\"pattern\":\"[ab]+\"}}")
                .responseFormat()).isEqualTo(ConstraintSpec.regex("[ab]+"));
        assertThat(CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"response_format\":{\"type\":\"choice\",\"choices\":[\"y\",\"n\"]}}")
                .responseFormat()).isEqualTo(ConstraintSpec.choice(List.of("y", "n")));
    }

    @Test
    void badConstraintsAreInvalidParameters() {
        assertThatThrownBy(() -> validator.prepare(CODEC.decode("r", """
                {"id":"r","prompt":"x","response_format":{"type":"json_schema","json_schema":{"name":"s",
                 "schema":{"type":"object","patternProperties":{"^a":{}}}}}}""")))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_parameter");
                    assertThat(e.getMessage()).contains("patternProperties");
                });
        assertThatThrownBy(() -> CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"response_format\":{\"type\":\"grammar\"}}"))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_parameter"));
        assertThatThrownBy(() -> CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{},\"x\":1}}}"))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_type"));
        assertThatThrownBy(() -> validator.prepare(CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"presence_penalty\":3}")))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_parameter"));
        assertThatThrownBy(() -> validator.prepare(CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"repetition_penalty\":0}")))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_parameter"));
        String huge = "{\"type\":\"object\",\"description\":\"" + "x".repeat(70_000) + "\"}";
        assertThatThrownBy(() -> CODEC.decode("r", "{\"id\":\"r\",\"prompt\":\"x\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":" + huge + "}}}"))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.code()).isEqualTo("invalid_parameter"));
    }
}
