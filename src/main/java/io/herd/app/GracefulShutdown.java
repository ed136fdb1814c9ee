package io.herd.app;

import io.herd.messaging.RequestConsumer;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * On SIGTERM: stop taking requests, let the in-flight ones finish within herd.shutdown.grace, leave the rest
 * uncommitted (re-run after the restart), then let the connector commit and close.
 */
@ApplicationScoped
public class GracefulShutdown {

    @Inject RequestConsumer consumer;
    @Inject HerdConfig config;

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        consumer.drain(config.shutdown().grace());
    }
}
