package io.herd.serving;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.herd.image.ImageRejectedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Image URL fetching against a real HTTP server on loopback: limits of bytes and time, allow-list, redirects. */
class HttpImageFetcherTest {
    private static final long MAX = 1000;

    private HttpServer server;
    private ExecutorService threads;
    private String base;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/ok", ex -> send(ex, bytes(600), true));
        server.createContext("/chunked", ex -> send(ex, bytes(600), false));
        server.createContext("/big", ex -> send(ex, bytes(5000), true));
        server.createContext("/big-chunked", ex -> send(ex, bytes(5000), false));
        server.createContext("/exact", ex -> send(ex, bytes((int) MAX), true));
        server.createContext("/slow-headers", ex -> {
            sleep(3000);
            send(ex, bytes(10), true);
        });
        server.createContext("/slow-body", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 30; i++) {
                    out.write(1);
                    out.flush();
                    sleep(100);
                }
            } catch (IOException ignored) {
                // the client gave up, as it should
            }
        });
        server.createContext("/redirect", ex -> {
            ex.getResponseHeaders().add("Location", base + "/ok");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.createContext("/missing", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.stop(0);
        threads.shutdownNow();
        threads.awaitTermination(5, TimeUnit.SECONDS);
    }

    private static HttpImageFetcher fetcher(String rules) {
        return new HttpImageFetcher(ImageUrlAllowList.parse(rules), MAX, Duration.ofSeconds(2));
    }

    private static long in(long millis) {
        return System.nanoTime() + millis * 1_000_000L;
    }

    @Test
    void fetchesTheBodyWithContentLengthOrChunked() {
        HttpImageFetcher f = fetcher("127.0.0.1");
        assertThat(f.fetch(base + "/ok", in(5000))).isEqualTo(bytes(600));
        assertThat(f.fetch(base + "/chunked?x=1", in(5000))).isEqualTo(bytes(600));
        assertThat(f.fetch(base + "/exact", in(5000))).hasSize((int) MAX);
    }

    @Test
    void refusesABodyPastTheByteLimitAnnouncedOrNot() {
        HttpImageFetcher f = fetcher("127.0.0.1");
        assertCode(() -> f.fetch(base + "/big", in(5000)), ImageRejectedException.IMAGE_TOO_LARGE, "1000 bytes");
        assertCode(() -> f.fetch(base + "/big-chunked", in(5000)), ImageRejectedException.IMAGE_TOO_LARGE, "1000 bytes");
    }

    @Test
    void stopsAtTheDeadlineWhetherHeadersOrBodyAreSlow() {
        HttpImageFetcher f = fetcher("127.0.0.1");
        long t0 = System.nanoTime();
        assertCode(() -> f.fetch(base + "/slow-headers", in(300)), ImageRejectedException.INVALID_IMAGE, "time limit");
        assertCode(() -> f.fetch(base + "/slow-body", in(500)), ImageRejectedException.INVALID_IMAGE, "time limit");
        // Both gave up at their deadlines (0.8 s together), long before the server would have finished (3 s each).
        assertThat(System.nanoTime() - t0).isLessThan(2_500_000_000L);
    }

    @Test
    void refusesRedirectsAndOtherStatuses() {
        HttpImageFetcher f = fetcher("127.0.0.1");
        assertCode(() -> f.fetch(base + "/redirect", in(5000)), ImageRejectedException.INVALID_IMAGE, "redirects are not followed");
        assertCode(() -> f.fetch(base + "/missing", in(5000)), ImageRejectedException.INVALID_IMAGE, "HTTP 404");
    }

    @Test
    void refusesHostsOffTheListOtherSchemesAndPrivateNames() {
        HttpImageFetcher f = fetcher("images.example.com, *.cdn.example.com");
        assertCode(() -> f.fetch(base + "/ok", in(5000)), ImageRejectedException.INVALID_IMAGE, "not on the allowed list");
        assertCode(() -> f.fetch("file:///etc/passwd", in(5000)), ImageRejectedException.INVALID_IMAGE, "http: or https:");
        assertCode(() -> f.fetch("ftp://images.example.com/a.png", in(5000)), ImageRejectedException.INVALID_IMAGE, "http: or https:");
        assertCode(() -> f.fetch("http://user@images.example.com/a.png", in(5000)), ImageRejectedException.INVALID_IMAGE, "user");
        // A listed name that resolves to loopback is refused: only an address the list names exactly may be private.
        int port = server.getAddress().getPort();
        assertCode(() -> fetcher("localhost").fetch("http://localhost:" + port + "/ok", in(5000)),
                ImageRejectedException.INVALID_IMAGE, "non-public address");
        // A suffix rule never matches an IP literal.
        assertCode(() -> fetcher("*.0.0.1").fetch(base + "/ok", in(5000)),
                ImageRejectedException.INVALID_IMAGE, "not on the allowed list");
    }

    @Test
    void allowListMatchesExactHostsAndSubdomainsOfSuffixes() {
        ImageUrlAllowList list = ImageUrlAllowList.parse("Images.Example.com,*.cdn.example.net");
        assertThat(list.allows("images.example.com")).isTrue();
        assertThat(list.allows("IMAGES.example.com.")).isTrue();
        assertThat(list.allows("a.images.example.com")).isFalse();
        assertThat(list.allows("a.cdn.example.net")).isTrue();
        assertThat(list.allows("x.y.cdn.example.net")).isTrue();
        assertThat(list.allows("cdn.example.net")).isFalse();
        assertThat(list.allows("evilcdn.example.net")).isFalse();
        assertThat(list.allows("cdn.example.net.evil.com")).isFalse();
        assertThatThrownBy(() -> ImageUrlAllowList.parse("*")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ImageUrlAllowList.parse("a.*.com")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ImageUrlAllowList.parse(" , ")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void privateAndPublicAddresses() throws IOException {
        for (String a : new String[]{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                "0.0.0.0", "224.0.0.1", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1", "64:ff9b::a00:1"})
            assertThat(HttpImageFetcher.isPublic(InetAddress.getByName(a))).as(a).isFalse();
        for (String a : new String[]{"93.184.216.34", "8.8.8.8", "2606:4700::1111"})
            assertThat(HttpImageFetcher.isPublic(InetAddress.getByName(a))).as(a).isTrue();
    }

    @Test
    void readerFetchesHttpOnlyWhenAFetcherIsConfigured() {
        ImageUrlReader dataOnly = new ImageUrlReader(MAX);
        assertCode(() -> dataOnly.bytes(base + "/ok", dataOnly.deadlineFromNow()), ImageRejectedException.INVALID_IMAGE, "not enabled");
        ImageUrlReader withHttp = new ImageUrlReader(MAX, fetcher("127.0.0.1"), Duration.ofSeconds(5));
        assertThat(withHttp.bytes(base + "/ok", withHttp.deadlineFromNow())).isEqualTo(bytes(600));
        assertCode(() -> withHttp.bytes("file:///etc/hosts", withHttp.deadlineFromNow()), ImageRejectedException.INVALID_IMAGE, "data:");
    }

    private static void assertCode(Runnable r, String code, String messagePart) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(ImageRejectedException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(messagePart);
        });
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + 7);
        return b;
    }

    private static void send(HttpExchange ex, byte[] body, boolean withLength) throws IOException {
        ex.sendResponseHeaders(200, withLength ? body.length : 0);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        } catch (IOException ignored) {
            // the client stopped reading past its limit
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
