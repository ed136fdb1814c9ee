package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.serving.Frontend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * herd.control: {"type":"cancel","id":…}. Every instance reads every control record (its own consumer group), and
 * the one running the request stops it; the stream ends with done/cancelled and the engine frees its KV blocks.
 *
 * <p>Records arrive a poll's worth at a time (batch mode): anyone may flood this topic, and one dispatch per record
 * onto the event loop that the request consumer and the response producer share was what slowed every stream under
 * 100,000 cancels. A batch costs one dispatch and a parse per record.
 */
@ApplicationScoped
public class ControlConsumer {

    private static final Logger LOG = Logger.getLogger(ControlConsumer.class);

    @Inject Frontend frontend;
    @Inject ObjectMapper mapper;

    @Incoming(Channels.CONTROL)
    public void consume(List<String> payloads) {
        for (String payload : payloads) handle(payload);
    }

    private void handle(String payload) {
        JsonNode n;
        try {
            n = mapper.readTree(payload);
        } catch (Exception e) {
            LOG.debugf("control record is not JSON, ignored: %s", abbreviate(payload));
            return;
        }
        String type = n.path("type").asText("");
        String id = n.path("id").asText("");
        if (!"cancel".equals(type) || id.isEmpty()) {
            LOG.debugf("control record ignored (need type=cancel and an id): %s", abbreviate(payload));
            return;
        }
        frontend.cancel(id);
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
