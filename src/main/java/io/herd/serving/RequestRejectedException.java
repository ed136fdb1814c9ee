package io.herd.serving;

/**
 * A request that cannot be served. {@code code} is the stable machine-readable reason that goes into the error event
 * and the dead-letter headers; {@code deadLetter} says whether the record itself belongs in the DLQ (malformed or
 * unservable) or was well-formed but refused now (e.g. its deadline already passed).
 */
public final class RequestRejectedException extends RuntimeException {

    private final String code;
    private final boolean deadLetter;

    public RequestRejectedException(String code, String message) {
        this(code, message, true);
    }

    /** Longest message kept: messages may quote the input, which is hostile and unbounded. */
    public static final int MAX_MESSAGE_LENGTH = 512;

    public RequestRejectedException(String code, String message, boolean deadLetter) {
        super(message == null || message.length() <= MAX_MESSAGE_LENGTH ? message
                : message.substring(0, MAX_MESSAGE_LENGTH) + "…");
        this.code = code;
        this.deadLetter = deadLetter;
    }

    public String code() { return code; }

    public boolean deadLetter() { return deadLetter; }
}
