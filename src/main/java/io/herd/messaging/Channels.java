package io.herd.messaging;

/** Reactive Messaging channel names; the topics behind them are configured in application.properties. */
public final class Channels {
    public static final String REQUESTS = "requests";
    public static final String RESPONSES = "responses";
    public static final String CONTROL = "control";
    public static final String ATTEMPTS = "attempts";
    public static final String DEAD_LETTERS = "dead-letters";

    /** Header names Herd adds to dead-lettered records (besides the connector's dead-letter-* headers). */
    public static final String DLQ_CODE_HEADER = "herd-dlq-code";
    public static final String DLQ_MESSAGE_HEADER = "herd-dlq-message";

    private Channels() {}
}
