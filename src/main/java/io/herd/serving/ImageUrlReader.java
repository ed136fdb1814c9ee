package io.herd.serving;

import java.time.Duration;
import java.util.Locale;

/**
 * The bytes behind an image part's URL: {@code data:} URLs always, {@code http(s)} URLs only when a fetcher is
 * configured (a host allow-list is set), all of one request's fetches within one time budget; any other scheme,
 * {@code file:} included, is refused.
 */
public final class ImageUrlReader {
    private final DataUrlImageSource data;
    private final HttpImageFetcher http;
    private final long budgetNanos;

    /** Data URLs only. */
    public ImageUrlReader(long maxImageBytes) {
        this(maxImageBytes, null, Duration.ZERO);
    }

    /** @param budget longest all image URL fetches of one request may take together */
    public ImageUrlReader(long maxImageBytes, HttpImageFetcher http, Duration budget) {
        if (http != null && (budget.isNegative() || budget.isZero()))
            throw new IllegalArgumentException("the image URL time limit must be positive");
        this.data = new DataUrlImageSource(maxImageBytes);
        this.http = http;
        this.budgetNanos = budget.toNanos();
    }

    /** The deadline for the fetches of a request whose images are read from now on. */
    public long deadlineFromNow() {
        return System.nanoTime() + budgetNanos;
    }

    /** @throws io.herd.image.ImageRejectedException {@code invalid_image} or {@code image_too_large} */
    public byte[] bytes(String url, long deadlineNanos) {
        String head = url.substring(0, Math.min(url.length(), 8)).toLowerCase(Locale.ROOT);
        if (http != null && (head.startsWith("http:") || head.startsWith("https:"))) return http.fetch(url, deadlineNanos);
        return data.bytes(url);
    }
}
