package io.herd.http;

/** Largest request body {@code /v1/*} reads ({@code herd.http.max-body-bytes}). */
public record HttpBodyLimit(long maxBytes) {
    public HttpBodyLimit {
        if (maxBytes < 1) throw new IllegalArgumentException("HTTP body limit must be >= 1 byte, got " + maxBytes);
    }
}
