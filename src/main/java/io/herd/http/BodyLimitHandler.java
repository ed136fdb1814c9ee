package io.herd.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The request body limit ({@code HERD_HTTP_MAX_BODY_BYTES}) with an OpenAI-shaped 413: a declared
 * {@code Content-Length} over the limit is refused before anything is read, and a chunked body that grows past it is
 * cut off by the {@link BodyHandler} (same limit), whose failure {@link #failure()} turns into the same answer.
 *
 * <p>Quarkus's own {@code quarkus.http.limits.max-body-size} (10 MiB unless set) still applies to the whole server
 * and answers first, with an empty 413; keep it at or above this limit.
 */
final class BodyLimitHandler implements Handler<RoutingContext> {

    private final long maxBytes;

    BodyLimitHandler(long maxBytes) {
        if (maxBytes < 1) throw new IllegalArgumentException("HTTP body limit must be >= 1 byte, got " + maxBytes);
        this.maxBytes = maxBytes;
    }

    @Override
    public void handle(RoutingContext ctx) {
        String length = ctx.request().getHeader("Content-Length");
        if (length != null && declaredOver(length)) {
            tooLarge(ctx);
            return;
        }
        ctx.next();
    }

    /** Reads the body up to the limit. */
    BodyHandler bodyHandler() { return BodyHandler.create(false).setBodyLimit(maxBytes); }

    /** For the route's failure handler: the body handler's 413 as an OpenAI error; other failures pass on. */
    Handler<RoutingContext> failure() {
        return ctx -> {
            if (ctx.statusCode() == 413) tooLarge(ctx);
            else ctx.next();
        };
    }

    private boolean declaredOver(String length) {
        try {
            return Long.parseLong(length.strip()) > maxBytes;
        } catch (NumberFormatException e) {
            return false; // Vert.x's HTTP codec refuses a malformed Content-Length before this runs
        }
    }

    private void tooLarge(RoutingContext ctx) {
        if (ctx.response().ended()) return;
        // The rest of the body is not read: an HTTP/1 connection is closed after the answer instead of drained (HTTP/2
        // resets just the stream, and forbids the header).
        if (ctx.request().version() != HttpVersion.HTTP_2) ctx.response().putHeader("Connection", "close");
        OpenAiErrors.send(ctx.response(), 413, "invalid_request_error", "request_too_large",
                "request body exceeds " + maxBytes + " bytes");
    }
}
