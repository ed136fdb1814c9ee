package io.herd.image;

/**
 * An image a request carries that cannot be served; {@link #code()} is the error code reported to the caller
 * ({@code invalid_image} or {@code image_too_large}, see kafka-topics/README.md).
 */
public final class ImageRejectedException extends RuntimeException {
    public static final String INVALID_IMAGE = "invalid_image";
    public static final String IMAGE_TOO_LARGE = "image_too_large";

    private final String code;

    public ImageRejectedException(String code, String message) {
        super(message);
        this.code = code;
    }

    public ImageRejectedException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() { return code; }
}
