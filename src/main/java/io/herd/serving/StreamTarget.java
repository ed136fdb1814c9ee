package io.herd.serving;

import java.util.Map;

/**
 * Where one attempt of a request streams to.
 *
 * @param requestId the request id (also the record key of every event)
 * @param attempt   1 for the first run, raised each time a crash made another instance re-run it
 * @param replyTo   topic for the events, or null for the default response topic
 * @param carrier   opaque context the publisher adds to each event (e.g. W3C trace headers)
 */
public record StreamTarget(String requestId, int attempt, String replyTo, Map<String, String> carrier) {}
