package io.herd.http;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** Error answers in OpenAI's shape: {@code {"error": {"message", "type", "param", "code"}}}. */
final class OpenAiErrors {

    private OpenAiErrors() {}

    static void send(HttpServerResponse response, int status, String type, String code, String message) {
        JsonObject error = new JsonObject().put("message", message).put("type", type).putNull("param").put("code", code);
        response.setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", error).encode());
    }
}
