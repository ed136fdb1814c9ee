package io.herd.structured;

/**
 * A constraint (schema, pattern, choice list) Herd cannot or will not compile. The message names the keyword or the
 * construct, so the caller can report it as {@code invalid_parameter}.
 */
public final class InvalidConstraintException extends RuntimeException {
    public InvalidConstraintException(String message) { super(message); }
}
