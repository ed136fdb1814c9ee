package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The consumer-side rules of kafka-topics/README.md: highest attempt wins, the first terminal event is the result. */
final class Streams {

    private Streams() {}

    /** The events of the attempt whose terminal event came first; empty while no attempt has ended. */
    static List<JsonNode> result(List<JsonNode> events) {
        for (JsonNode e : events) {
            if (isTerminal(e)) {
                int attempt = e.path("attempt").asInt();
                List<JsonNode> out = new ArrayList<>();
                for (JsonNode x : events) {
                    if (x.path("attempt").asInt() == attempt) out.add(x);
                    if (x == e) break;
                }
                return out;
            }
        }
        return List.of();
    }

    static boolean isTerminal(JsonNode e) {
        String t = e.path("type").asText();
        return t.equals("done") || t.equals("error");
    }

    static boolean finished(List<JsonNode> events) { return !result(events).isEmpty(); }

    static String text(List<JsonNode> stream) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode e : stream) if (e.path("type").asText().equals("delta")) sb.append(e.path("text").asText());
        return sb.toString();
    }

    static List<Integer> tokenIds(List<JsonNode> stream) {
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : stream) if (e.path("type").asText().equals("delta")) e.path("token_ids").forEach(t -> out.add(t.asInt()));
        return out;
    }

    /** started first, seq 0,1,2… without gaps, deltas in between, one done last. */
    static void assertWellFormed(String id, List<JsonNode> stream) {
        assertThat(stream).as("stream of %s", id).isNotEmpty();
        for (int i = 0; i < stream.size(); i++) {
            assertThat(stream.get(i).path("seq").asInt()).as("seq of event %d of %s", i, id).isEqualTo(i);
            assertThat(stream.get(i).path("id").asText()).isEqualTo(id);
        }
        assertThat(stream.getFirst().path("type").asText()).as("first event of %s", id).isEqualTo("started");
        assertThat(stream.getLast().path("type").asText()).as("last event of %s", id).isEqualTo("done");
        for (JsonNode e : stream.subList(1, stream.size() - 1)) assertThat(e.path("type").asText()).isEqualTo("delta");
        assertThat(tokenIds(stream)).hasSize(stream.getLast().path("usage").path("completion_tokens").asInt());
    }
}
