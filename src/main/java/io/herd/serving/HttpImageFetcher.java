package io.herd.serving;

import io.herd.image.ImageRejectedException;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Fetches an {@code http(s)} image URL whose host is on the allow-list, bounded in bytes and time. It speaks
 * HTTP/1.1 over a socket it opens itself so that every bound holds: the host name is resolved once, every address
 * must be public (no loopback, private, link-local, CGNAT, multicast or unique-local address, so a name on the list
 * cannot be pointed, or re-pointed between a check and the connect, at the service's own network) and the socket
 * connects to that resolved address, TLS still verifying the certificate against the host name. An IP literal is
 * trusted only when the list names it exactly. Redirects are not followed (the answer must be 200), bodies are
 * read up to the byte limit and no further, and connect, TLS, headers and body all share one deadline.
 */
public final class HttpImageFetcher {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final int MAX_HEADER_LINE = 8192;
    private static final int MAX_HEADER_LINES = 100;

    private final ImageUrlAllowList allowList;
    private final long maxBytes;
    private final Duration connectTimeout;
    private final SSLSocketFactory tls;

    public HttpImageFetcher(ImageUrlAllowList allowList, long maxBytes, Duration connectTimeout) {
        this(allowList, maxBytes, connectTimeout, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    HttpImageFetcher(ImageUrlAllowList allowList, long maxBytes, Duration connectTimeout, SSLSocketFactory tls) {
        if (maxBytes <= 0 || connectTimeout.isNegative() || connectTimeout.isZero())
            throw new IllegalArgumentException("image fetch limits must be positive");
        this.allowList = allowList;
        this.maxBytes = maxBytes;
        this.connectTimeout = connectTimeout;
        this.tls = tls;
    }

    /**
     * @param deadlineNanos {@link System#nanoTime()} by which the whole body must have arrived
     * @throws ImageRejectedException {@code invalid_image} for a refused URL, a failed or timed-out fetch or an answer
     *                                other than 200; {@code image_too_large} past the byte limit
     */
    public byte[] fetch(String url, long deadlineNanos) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw invalid("the image URL is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https"))
            throw invalid("image URLs must be data:, http: or https: URLs");
        String host = uri.getHost();
        if (host == null || uri.getRawUserInfo() != null)
            throw invalid("the image URL must name a host and no user information");
        boolean literal = host.startsWith("[") || IPV4.matcher(host).matches();
        if (literal ? !allowList.namesExactly(host) : !allowList.allows(host))
            throw invalid("image URL host " + host + " is not on the allowed list (HERD_IMAGE_URL_ALLOWED)");
        boolean secure = scheme.equals("https");
        int port = uri.getPort() < 0 ? (secure ? 443 : 80) : uri.getPort();
        InetAddress address = literal ? literal(host) : resolvePublic(host, deadlineNanos);
        String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        String hostHeader = host + (uri.getPort() < 0 ? "" : ":" + port);
        try (Socket socket = connect(address, port, secure ? host : null, literal, deadlineNanos)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nUser-Agent: herd\r\nAccept: image/*\r\n"
                    + "Accept-Encoding: identity\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return readResponse(new DeadlineInput(socket, deadlineNanos), host);
        } catch (SocketTimeoutException e) {
            throw invalid("fetching the image URL from " + host + " did not finish within its time limit");
        } catch (IOException e) {
            throw invalid("could not fetch the image URL from " + host + ": " + e.getMessage());
        }
    }

    private Socket connect(InetAddress address, int port, String tlsHost, boolean literal, long deadlineNanos)
            throws IOException {
        Socket socket = new Socket();
        try {
            long remaining = remainingMillis(deadlineNanos);
            socket.connect(new InetSocketAddress(address, port), (int) Math.min(remaining, connectTimeout.toMillis()));
            if (tlsHost == null) return socket;
            SSLSocket ssl = (SSLSocket) tls.createSocket(socket, tlsHost, port, true);
            SSLParameters params = ssl.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            if (!literal) params.setServerNames(List.of(new SNIHostName(tlsHost)));
            ssl.setSSLParameters(params);
            ssl.setSoTimeout((int) remainingMillis(deadlineNanos));
            ssl.startHandshake();
            return ssl;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private byte[] readResponse(DeadlineInput in, String host) throws IOException {
        String status = line(in);
        String[] words = status.split(" ", 3);
        if (words.length < 2 || !words[0].startsWith("HTTP/1."))
            throw invalid("the image URL's server did not answer HTTP/1.x");
        long contentLength = -1;
        boolean chunked = false;
        String location = null;
        for (int n = 0; ; n++) {
            if (n > MAX_HEADER_LINES) throw invalid("the image URL's answer has too many headers");
            String header = line(in);
            if (header.isEmpty()) break;
            int colon = header.indexOf(':');
            if (colon <= 0) continue;
            String name = header.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = header.substring(colon + 1).strip();
            switch (name) {
                case "content-length" -> {
                    try {
                        contentLength = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw invalid("the image URL's answer has a malformed Content-Length");
                    }
                }
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "content-encoding" -> {
                    if (!value.equalsIgnoreCase("identity"))
                        throw invalid("the image URL's answer is compressed (" + value + "); only plain bodies are read");
                }
                case "location" -> location = value;
                default -> { }
            }
        }
        int code = words[1].length() == 3 && words[1].chars().allMatch(Character::isDigit) ? Integer.parseInt(words[1]) : -1;
        if (code >= 300 && code < 400)
            throw invalid("the image URL from " + host + " redirects" + (location == null ? "" : " to " + location)
                    + "; redirects are not followed, give the final URL");
        if (code != 200) throw invalid("the image URL from " + host + " answered HTTP " + words[1] + ", not 200");
        if (!chunked && contentLength > maxBytes) throw tooLarge(" (its answer announces " + contentLength + " bytes)");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (chunked) {
            while (true) {
                String sizeLine = line(in);
                int semi = sizeLine.indexOf(';');
                long size;
                try {
                    size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip(), 16);
                } catch (NumberFormatException e) {
                    throw invalid("the image URL's answer has a malformed chunk");
                }
                if (size < 0) throw invalid("the image URL's answer has a malformed chunk");
                if (size == 0) break;
                copy(in, body, size, true);
                if (!line(in).isEmpty()) throw invalid("the image URL's answer has a malformed chunk");
            }
        } else if (contentLength >= 0) {
            copy(in, body, contentLength, true);
        } else {
            copy(in, body, Long.MAX_VALUE, false);
        }
        return body.toByteArray();
    }

    /** Copies {@code n} bytes (or up to the end), refusing at the first byte past the limit. */
    private void copy(InputStream in, ByteArrayOutputStream body, long n, boolean exact) throws IOException {
        byte[] buffer = new byte[16384];
        long left = n;
        while (left > 0) {
            int r = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (r < 0) {
                if (exact) throw invalid("the image URL's answer ended before its announced length");
                return;
            }
            if (body.size() + (long) r > maxBytes) throw tooLarge("");
            body.write(buffer, 0, r);
            left -= r;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder s = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) throw invalid("the image URL's answer ended inside its headers");
            if (b == '\n') break;
            if (s.length() >= MAX_HEADER_LINE) throw invalid("the image URL's answer has a header line over 8 KiB");
            s.append((char) b);
        }
        int len = s.length();
        return len > 0 && s.charAt(len - 1) == '\r' ? s.substring(0, len - 1) : s.toString();
    }

    private ImageRejectedException tooLarge(String what) {
        return new ImageRejectedException(ImageRejectedException.IMAGE_TOO_LARGE,
                "the image at the URL is larger than the limit of " + maxBytes + " bytes" + what);
    }

    private static InetAddress literal(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw invalid("the image URL's host " + host + " is not a valid address");
        }
    }

    /** Resolves on a virtual thread so the lookup, too, ends by the deadline; every address must be public. */
    private static InetAddress resolvePublic(String host, long deadlineNanos) {
        CompletableFuture<InetAddress[]> lookup = new CompletableFuture<>();
        Thread.ofVirtual().name("herd-image-dns").start(() -> {
            try {
                lookup.complete(InetAddress.getAllByName(host));
            } catch (Throwable t) {
                lookup.completeExceptionally(t);
            }
        });
        InetAddress[] addresses;
        try {
            addresses = lookup.get(remainingMillis(deadlineNanos), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw invalid("resolving the image URL's host " + host + " did not finish within its time limit");
        } catch (ExecutionException e) {
            throw invalid("the image URL's host " + host + " cannot be resolved");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw invalid("fetching the image URL was interrupted");
        }
        for (InetAddress a : addresses)
            if (!isPublic(a))
                throw invalid("the image URL's host " + host + " resolves to a non-public address; only an address the"
                        + " allowed list names exactly may be private");
        return addresses[0];
    }

    /** False for addresses that reach the service's own machine or network rather than the internet. */
    static boolean isPublic(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) return false;
        byte[] b = a.getAddress();
        if (b.length == 4) {
            int x = b[0] & 255, y = b[1] & 255;
            return x != 0 && x < 224 && !(x == 100 && (y & 0xC0) == 64) && !(x == 198 && (y & 0xFE) == 18)
                    && !(x == 192 && y == 0 && (b[2] & 255) == 0);
        }
        // fc00::/7 unique-local; 64:ff9b::/96 NAT64 and 2002::/16 6to4 can embed any IPv4 address, so they are refused.
        if ((b[0] & 0xFE) == 0xFC) return false;
        if ((b[0] & 255) == 0x20 && (b[1] & 255) == 0x02) return false;
        return !((b[0] & 255) == 0 && (b[1] & 255) == 0x64 && (b[2] & 255) == 0xFF && (b[3] & 255) == 0x9B);
    }

    private static long remainingMillis(long deadlineNanos) throws ImageRejectedException {
        long ms = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        if (ms <= 0) throw invalid("fetching the image URL did not finish within its time limit");
        return ms;
    }

    private static ImageRejectedException invalid(String message) {
        return new ImageRejectedException(ImageRejectedException.INVALID_IMAGE, message);
    }

    /** A socket's input whose every read waits at most until the shared deadline. */
    private static final class DeadlineInput extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private final long deadlineNanos;
        private final byte[] buffer = new byte[8192];
        private int pos;
        private int end;

        DeadlineInput(Socket socket, long deadlineNanos) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.deadlineNanos = deadlineNanos;
        }

        @Override
        public int read() throws IOException {
            if (pos == end && !fill()) return -1;
            return buffer[pos++] & 255;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (pos == end && !fill()) return -1;
            int n = Math.min(len, end - pos);
            System.arraycopy(buffer, pos, b, off, n);
            pos += n;
            return n;
        }

        private boolean fill() throws IOException {
            long ms = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (ms <= 0) throw new SocketTimeoutException("deadline passed");
            socket.setSoTimeout((int) Math.min(ms, Integer.MAX_VALUE));
            int r = in.read(buffer, 0, buffer.length);
            if (r < 0) return false;
            pos = 0;
            end = r;
            return true;
        }
    }
}
