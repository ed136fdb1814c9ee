package io.herd.serving;

import io.herd.image.ImageRejectedException;

import java.util.Base64;
import java.util.Locale;

/**
 * The bytes of an image given as a {@code data:image/…;base64,…} URL ({@code http(s)} URLs go to
 * {@link HttpImageFetcher} when the service allows them; {@code file:} or any other scheme is never read). The encoded
 * size is checked before decoding the base64 text.
 */
public final class DataUrlImageSource {
    private final long maxImageBytes;

    public DataUrlImageSource(long maxImageBytes) {
        this.maxImageBytes = maxImageBytes;
    }

    public byte[] bytes(String url) {
        int comma = url.indexOf(',');
        String lower = url.substring(0, Math.max(0, Math.min(url.length(), comma < 0 ? 64 : comma))).toLowerCase(Locale.ROOT);
        if (!lower.startsWith("data:"))
            throw new ImageRejectedException(ImageRejectedException.INVALID_IMAGE, "only data: URLs are accepted for images"
                    + (lower.startsWith("http") ? " (fetching http(s) image URLs is not enabled on this service)" : ""));
        if (comma < 0 || !lower.endsWith(";base64") || !lower.startsWith("data:image/"))
            throw new ImageRejectedException(ImageRejectedException.INVALID_IMAGE,
                    "an image data URL must look like data:image/<type>;base64,<data>");
        long payload = url.length() - comma - 1;
        if (payload / 4 * 3 > maxImageBytes + 2)
            throw new ImageRejectedException(ImageRejectedException.IMAGE_TOO_LARGE, "image of about " + payload / 4 * 3
                    + " bytes exceeds the limit of " + maxImageBytes);
        try {
            return Base64.getMimeDecoder().decode(url.substring(comma + 1));
        } catch (IllegalArgumentException e) {
            throw new ImageRejectedException(ImageRejectedException.INVALID_IMAGE, "the image data URL is not valid base64");
        }
    }
}
