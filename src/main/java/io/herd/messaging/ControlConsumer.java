package io.herd.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.serving.Frontend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * herd.control: {"type":"cancel","id":…}. Every instance reads every control record (its own consumer group), and
 * the one running the request stops it; the stream ends with done/cancelled and the engine frees its KV blocks.
 */
@ApplicationScoped
public class ControlConsumer {

    private static final Logger LOG = Logger.getLogger(ControlConsumer.class);

    @Inject Frontend frontend;
    @Inject ObjectMapper mapper;

    @Incoming(Channels.CONTROL)
    public void consume(String payload) {
        JsonNode n;
        try {
            n = mapper.readTree(payload);
        } catch (Exception e) {
            LOG.warnf("control record is not JSON, ignored: %s", abbreviate(payload));
            return;
        }
        String type = n.path("type").asText("");
        String id = n.path("id").asText("");
        if (!"cancel".equals(type) || id.isEmpty()) {
            LOG.warnf("control record ignored (need type=cancel and an id): %s", abbreviate(payload));
            return;
        }
        frontend.cancel(id);
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
