package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The request fields the codec takes are exactly those the published schema declares. */
class RequestSchemaFieldsTest {

    @Test
    void theCodecAndTheSchemaNameTheSameFields() throws Exception {
        JsonNode schema = new ObjectMapper().readTree(Path.of("kafka-topics/schemas/request.schema.json").toFile());
        Set<String> declared = new HashSet<>();
        schema.path("properties").fieldNames().forEachRemaining(declared::add);
        assertThat(declared).containsExactlyInAnyOrderElementsOf(RequestCodec.FIELDS);
    }
}
