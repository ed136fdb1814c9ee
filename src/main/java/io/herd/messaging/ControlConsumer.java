package io.herd.messaging;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.herd.serving.Frontend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

import java.io.IOException;
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

    private static final JsonFactory JSON = new JsonFactory();

    @Inject Frontend frontend;

    @Incoming(Channels.CONTROL)
    public void consume(List<String> payloads) {
        for (String payload : payloads) handle(payload);
    }

    private void handle(String payload) {
        String id;
        try {
            id = cancelledId(payload);
        } catch (IOException | RuntimeException e) {
            LOG.debugf("control record is not JSON, ignored: %s", abbreviate(payload));
            return;
        }
        if (id == null) {
            LOG.debugf("control record ignored (need type=cancel and an id): %s", abbreviate(payload));
            return;
        }
        frontend.cancel(id);
    }

    /**
     * The id of a {"type":"cancel","id":…} record, else null. Read with the streaming parser, top-level fields only
     * and no tree: a flood of cancels costs the service as little as it can.
     */
    static String cancelledId(String payload) throws IOException {
        if (payload == null) return null;
        try (JsonParser p = JSON.createParser(payload)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            String type = null;
            String id = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if ("type".equals(field) && value == JsonToken.VALUE_STRING) type = p.getText();
                else if ("id".equals(field) && value == JsonToken.VALUE_STRING) id = p.getText();
                else p.skipChildren();
            }
            return "cancel".equals(type) && id != null && !id.isEmpty() ? id : null;
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
