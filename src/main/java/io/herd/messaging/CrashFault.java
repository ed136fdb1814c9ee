package io.herd.messaging;

import io.herd.serving.RequestMessage;
import io.herd.serving.CompletionRequest;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.util.Optional;

/**
 * Fault injection for the fault suite only: with {@code herd.testing.crash-marker} set, a request whose prompt or
 * message text contains it halts the process the moment it would start (after its running marker is written), the
 * way a request that crashes the engine or the JVM would. Unset (always, outside tests) it does nothing.
 */
@ApplicationScoped
public class CrashFault {

    private static final Logger LOG = Logger.getLogger(CrashFault.class);
    static final int EXIT_CODE = 99;

    @ConfigProperty(name = "herd.testing.crash-marker")
    Optional<String> marker;

    /** Halts the process if the request carries the marker. */
    public void beforeStart(CompletionRequest request) {
        if (marker.isEmpty() || marker.get().isEmpty()) return;
        String m = marker.get();
        boolean hit = request.prompt() != null && request.prompt().contains(m);
        if (!hit && request.messages() != null) {
            for (RequestMessage message : request.messages()) hit |= message.content() != null && message.content().contains(m);
        }
        if (hit) {
            LOG.errorf("request %s carries the crash marker: halting (herd.testing.crash-marker is set)", request.id());
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }
}
