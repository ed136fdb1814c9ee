package io.herd.serving;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Hosts whose {@code http(s)} image URLs may be fetched: each rule is an exact host ({@code images.example.com},
 * or an IP literal such as {@code 10.0.0.7}) or {@code *.suffix}, which matches any host under the suffix but not the
 * suffix itself. Comparison ignores case; a trailing dot of a fully qualified name is dropped first.
 */
public final class ImageUrlAllowList {
    private final List<String> exact = new ArrayList<>();
    private final List<String> suffixes = new ArrayList<>();

    private ImageUrlAllowList() {}

    /** @param rules comma-separated rules; blank entries are ignored, a malformed one is refused */
    public static ImageUrlAllowList parse(String rules) {
        ImageUrlAllowList list = new ImageUrlAllowList();
        for (String raw : rules.split(",")) {
            String rule = normalize(raw.strip());
            if (rule.isEmpty()) continue;
            if (rule.startsWith("*.")) {
                String suffix = rule.substring(1);
                if (suffix.length() < 2 || suffix.indexOf('*') >= 0 || suffix.lastIndexOf('.') == 0 && suffix.length() < 3)
                    throw new IllegalArgumentException("image URL host rule '" + raw.strip() + "' is not *.domain");
                list.suffixes.add(suffix);
            } else {
                if (rule.indexOf('*') >= 0 || rule.indexOf('/') >= 0 || rule.indexOf(':') >= 0 && !rule.startsWith("["))
                    throw new IllegalArgumentException("image URL host rule '" + raw.strip()
                            + "' must be a host name, an IP address ([…] for IPv6) or *.domain");
                list.exact.add(rule);
            }
        }
        if (list.exact.isEmpty() && list.suffixes.isEmpty())
            throw new IllegalArgumentException("the image URL host allow-list has no rules");
        return list;
    }

    /** Whether {@code host} (as a URI gives it, IPv6 in brackets) is on the list. */
    public boolean allows(String host) {
        String h = normalize(host);
        if (h.isEmpty()) return false;
        if (exact.contains(h)) return true;
        for (String suffix : suffixes) if (h.endsWith(suffix) && h.length() > suffix.length()) return true;
        return false;
    }

    /** Whether {@code host} is named by an exact rule (not only by a {@code *.suffix} one). */
    public boolean namesExactly(String host) {
        return exact.contains(normalize(host));
    }

    private static String normalize(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
