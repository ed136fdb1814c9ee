package io.herd.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The bearer tokens that may call {@code /v1/*} ({@code HERD_API_KEYS}, comma-separated; none → no check).
 *
 * <p>Only SHA-256 digests of the keys are kept, and a presented token is compared with every one of them by
 * {@link MessageDigest#isEqual} without stopping at a match, so neither the length of a key nor which key matched
 * shows in the time of an answer. {@link #toString()} never shows a key.
 */
public final class ApiKeys {

    private final List<byte[]> digests;

    private ApiKeys(List<byte[]> digests) { this.digests = digests; }

    /** Parses the comma-separated setting; blank entries are ignored; an empty or absent setting checks nothing. */
    public static ApiKeys parse(String setting) {
        List<byte[]> digests = new ArrayList<>();
        if (setting != null) {
            for (String key : setting.split(",")) {
                String k = key.strip();
                if (!k.isEmpty()) digests.add(sha256(k));
            }
        }
        return new ApiKeys(List.copyOf(digests));
    }

    /** True when keys are configured and requests must present one. */
    public boolean required() { return !digests.isEmpty(); }

    /** Whether an {@code Authorization} header value ({@code Bearer <token>}) carries one of the keys. */
    public boolean accepts(String authorization) {
        if (!required()) return true;
        if (authorization == null || authorization.length() < 7
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        byte[] presented = sha256(authorization.substring(7).strip());
        boolean match = false;
        for (byte[] digest : digests) match |= MessageDigest.isEqual(digest, presented);
        return match;
    }

    @Override
    public String toString() { return "ApiKeys[" + digests.size() + " configured]"; }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
