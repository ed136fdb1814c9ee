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

    public RequestRejectedException(String code, String message, boolean deadLetter) {
        super(message);
        this.code = code;
        this.deadLetter = deadLetter;
    }

    public String code() { return code; }

    public boolean deadLetter() { return deadLetter; }
}
