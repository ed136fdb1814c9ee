package io.herd.weights;

/**
 * A checkpoint file is malformed, truncated, or does not hold what the model needs. The message always names the
 * file and, where one is involved, the tensor.
 */
public final class CheckpointFormatException extends RuntimeException {
    public CheckpointFormatException(String message) {
        super(message);
    }

    public CheckpointFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
