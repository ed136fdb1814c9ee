package io.herd.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The auth and body-limit handlers on a real Vert.x router and HTTP server, chained as OpenAiRoutes does. */
class OpenAiGuardHandlersTest {

    static final int LIMIT = 1000;
    static Vertx vertx;
    static HttpServer server;
    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        BodyLimitHandler limit = new BodyLimitHandler(LIMIT);
        OpenAiRoutes.guard(router, ApiKeys.parse("k1,k2"), limit);
        router.post("/v1/echo").handler(limit.bodyHandler())
                .handler(ctx -> ctx.response().end("read " + ctx.body().length())).failureHandler(limit.failure());
        router.get("/open").handler(ctx -> ctx.response().end("open"));
        server = vertx.createHttpServer().requestHandler(router).listen(0).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) http.close();
        if (vertx != null) vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static HttpResponse<String> post(String path, String auth, HttpRequest.BodyPublisher body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + server.actualPort() + path))
                .timeout(Duration.ofSeconds(10)).POST(body);
        if (auth != null) b.header("Authorization", auth);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject error(HttpResponse<String> r) { return new JsonObject(r.body()).getJsonObject("error"); }

    @Test
    void withoutAKeyTheAnswerIs401InOpenAisShape() throws Exception {
        for (String auth : new String[] {null, "Bearer k3", "k1", "Basic k1"}) {
            HttpResponse<String> r = post("/v1/echo", auth, HttpRequest.BodyPublishers.ofString("{}"));
            assertThat(r.statusCode()).as("%s", auth).isEqualTo(401);
            assertThat(error(r).getString("code")).isEqualTo("invalid_api_key");
            assertThat(error(r).getString("type")).isEqualTo("invalid_request_error");
            assertThat(error(r).containsKey("param")).isTrue();
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        }
        assertThat(post("/v1/echo", "Bearer k2", HttpRequest.BodyPublishers.ofString("{}")).body()).isEqualTo("read 2");
        HttpResponse<String> open = http.send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + server.actualPort() + "/open")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(open.body()).as("outside /v1 no key is asked").isEqualTo("open");
    }

    @Test
    void aBodyOverTheLimitIs413WhetherDeclaredOrChunked() throws Exception {
        String over = "x".repeat(LIMIT + 1);
        HttpResponse<String> declared = post("/v1/echo", "Bearer k1", HttpRequest.BodyPublishers.ofString(over));
        assertThat(declared.statusCode()).isEqualTo(413);
        assertThat(error(declared).getString("code")).isEqualTo("request_too_large");

        HttpResponse<String> chunked = post("/v1/echo", "Bearer k1",
                HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(over)));
        assertThat(chunked.statusCode()).isEqualTo(413);
        assertThat(error(chunked).getString("code")).isEqualTo("request_too_large");

        String exact = "x".repeat(LIMIT);
        assertThat(post("/v1/echo", "Bearer k1", HttpRequest.BodyPublishers.ofString(exact)).body()).isEqualTo("read " + LIMIT);
        assertThat(post("/v1/echo", "Bearer k1", HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofString(exact))).body()).isEqualTo("read " + LIMIT);
    }
}
