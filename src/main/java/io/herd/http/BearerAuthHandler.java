package io.herd.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Lets a request through only with {@code Authorization: Bearer <key>} for one of the {@link ApiKeys} (everything
 * passes when none are configured). Runs before the body is read, so an unauthenticated client costs no buffering.
 * The presented token is never logged or echoed.
 */
final class BearerAuthHandler implements Handler<RoutingContext> {

    private final ApiKeys keys;

    BearerAuthHandler(ApiKeys keys) { this.keys = keys; }

    @Override
    public void handle(RoutingContext ctx) {
        if (keys.accepts(ctx.request().getHeader("Authorization"))) {
            ctx.next();
            return;
        }
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        OpenAiErrors.send(ctx.response(), 401, "invalid_request_error", "invalid_api_key",
                "a valid API key is required: send 'Authorization: Bearer <key>'");
    }
}
