package io.herd.serving;

import java.util.concurrent.CompletionStage;

/** Publishes stream events (the Kafka response topic in production). */
public interface StreamOutput {

    /**
     * Sends one event; the stage completes when the broker has acknowledged it. Called from one thread, in
     * stream order, so the events of a request stay ordered.
     */
    CompletionStage<Void> publish(StreamTarget target, int seq, StreamEvent event);
}
