package io.herd.engine;

/**
 * The serving core as the messaging layer sees it: submit a tokenized request, receive its events on a sink,
 * abort it. Implemented by {@code EngineCore} (continuous batching over the paged, prefix-cached KV cache).
 */
public interface InferenceEngine extends AutoCloseable {

    /**
     * Queues a request. Returns false (and queues nothing) when the admission queue is full, so the caller can
     * pause consumption. Events for the request arrive on {@code sink} from the engine thread, in order.
     */
    boolean submit(EngineRequest request, RequestSink sink);

    /** Stops a queued or running request; its sink gets {@code onFinished(CANCELLED)}. False if unknown/finished. */
    boolean abort(String requestId);

    /** A snapshot for metrics and readiness. */
    EngineStats stats();

    /** Largest prompt + generation length a request may have. */
    int maxModelLength();

    @Override
    void close();
}
