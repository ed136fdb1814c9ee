package io.herd.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herd.messaging.RequestCodec;
import io.herd.messaging.StreamMetrics;
import io.herd.serving.Frontend;
import io.herd.serving.PreparedRequest;
import io.herd.serving.RequestRejectedException;
import io.herd.serving.RequestValidator;
import io.herd.serving.StreamEvent;
import io.herd.serving.StreamOutput;
import io.herd.serving.StreamTarget;
import io.herd.serving.ToolCallOutput;
import io.herd.structured.ToolCallParser;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * OpenAI-compatible HTTP on the same engine and lifecycle as the Kafka edge: POST /v1/completions,
 * POST /v1/chat/completions (JSON, or server-sent events with {@code "stream": true}) and GET /v1/models.
 * Request fields are those of the Kafka contract (OpenAI's names); {@code stream}, {@code stream_options} and
 * {@code max_completion_tokens} are understood here as well; {@code n} choices come back as OpenAI's
 * {@code choices[index]}, {@code logprobs} in OpenAI's chat and completions shapes and {@code prompt_logprobs} in
 * vLLM's ({@link OpenAiLogprobs}). A client that disconnects cancels its request.
 *
 * <p>Guards on {@code /v1/*}, in this order: the API key ({@link BearerAuthHandler}, 401), the body limit
 * ({@link BodyLimitHandler}, 413), and HTTP's share of admission ({@link HttpAdmission}, 429 with
 * {@code Retry-After} when its waiting line is full).
 */
@ApplicationScoped
public class OpenAiRoutes {

    private static final Set<String> HTTP_ONLY = Set.of("stream", "stream_options", "max_completion_tokens");

    @Inject ObjectMapper mapper;
    @Inject Instance<Frontend> frontend;
    @Inject Instance<RequestValidator> validator;
    @Inject Instance<RequestCodec> codec;
    @Inject StreamMetrics metrics;
    @Inject ApiKeys apiKeys;
    @Inject HttpBodyLimit bodyLimit;
    @Inject Instance<HttpAdmission> admission;

    /** Seconds a client refused for a full waiting line is told to wait: enough for slots to turn over under load. */
    static final int RETRY_AFTER_SECONDS = 1;

    void routes(@Observes Router router) {
        BodyLimitHandler limit = new BodyLimitHandler(bodyLimit.maxBytes());
        guard(router, apiKeys, limit);
        // Parsing, validation and tokenization of a body up to the limit take milliseconds: on a worker thread, never
        // on the event loop that every other connection shares (unordered: requests do not wait for each other).
        router.post("/v1/completions").handler(limit.bodyHandler()).blockingHandler(ctx -> handle(ctx, false), false)
                .failureHandler(limit.failure());
        router.post("/v1/chat/completions").handler(limit.bodyHandler()).blockingHandler(ctx -> handle(ctx, true), false)
                .failureHandler(limit.failure());
        router.get("/v1/models").handler(this::models);
    }

    /**
     * The checks that run before every /v1 route and before any body is read: the key, then a declared body size.
     * Routes of their own, since Vert.x wants a route's body handler before its other handlers.
     */
    static void guard(Router router, ApiKeys keys, BodyLimitHandler limit) {
        router.route("/v1/*").order(-10).handler(new BearerAuthHandler(keys));
        router.route("/v1/*").order(-9).handler(limit);
    }

    private void models(RoutingContext ctx) {
        ObjectNode out = mapper.createObjectNode().put("object", "list");
        ArrayNode data = out.putArray("data");
        for (String name : validator.get().limits().modelNames()) {
            data.addObject().put("id", name).put("object", "model").put("created", 0).put("owned_by", "herd")
                    .put("max_model_len", validator.get().limits().maxModelLength());
        }
        ctx.response().putHeader("Content-Type", "application/json").end(out.toString());
    }

    private void handle(RoutingContext ctx, boolean chat) {
        long receivedNanos = System.nanoTime();
        Instant now = Instant.now();
        long receivedEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
        JsonNode root;
        try {
            root = mapper.readTree(ctx.body().asString());
        } catch (Exception e) {
            error(ctx.response(), 400, "invalid_json", "body is not JSON");
            return;
        }
        if (!(root instanceof ObjectNode body)) {
            error(ctx.response(), 400, "invalid_json", "body is not a JSON object");
            return;
        }
        boolean stream = body.path("stream").asBoolean(false);
        boolean includeUsage = body.path("stream_options").path("include_usage").asBoolean(false);
        if (chat == body.has("prompt") || !chat && body.has("messages")) {
            error(ctx.response(), 400, "invalid_request", chat ? "chat completions take 'messages'" : "completions take 'prompt'");
            return;
        }
        ObjectNode request = body.deepCopy();
        for (Iterator<String> it = request.fieldNames(); it.hasNext(); ) if (HTTP_ONLY.contains(it.next())) it.remove();
        if (body.has("max_completion_tokens")) request.set("max_tokens", body.get("max_completion_tokens"));
        if (!chat && body.path("logprobs").isInt()) { // completions: logprobs = number of alternatives
            request.put("top_logprobs", body.path("logprobs").asInt());
            request.put("logprobs", true);
        }
        request.put("id", id);
        // The line is checked before the prompt is tokenized, so a refused flood costs no tokenization.
        HttpAdmission.Ticket ticket = admission.get().enter();
        if (ticket == null) {
            ctx.response().putHeader("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
            OpenAiErrors.send(ctx.response(), 429, "requests", "rate_limit_exceeded",
                    "too many HTTP requests waiting for admission; retry after " + RETRY_AFTER_SECONDS + " s");
            return;
        }
        PreparedRequest prepared;
        try {
            prepared = validator.get().prepare(codec.get().decode(id, request.toString()));
        } catch (RequestRejectedException e) {
            ticket.leaveUnlessStarted();
            error(ctx.response(), 400, e.code(), e.getMessage());
            return;
        }
        String model = prepared.request().model() != null ? prepared.request().model()
                : validator.get().limits().modelNames().iterator().next();
        HttpStreamOutput output = new HttpStreamOutput(ctx.response(), id, model, chat, stream, includeUsage, now.getEpochSecond(),
                prepared.choices(), new OpenAiLogprobs(mapper, prepared.codec(), chat, prepared.choices()),
                prepared.engineRequest().sampling().logprobs());
        output.toolCalls = prepared.request().tools() != null && prepared.request().tools().parsesCalls();
        Frontend f = frontend.get();
        ctx.response().closeHandler(v -> {
            // Still in line: give the place (and any slot) back; started: cancel the stream.
            if (!ticket.leaveUnlessStarted() && !output.finished) f.cancel(id);
        });
        ticket.admitted().thenRun(() -> {
            if (!ticket.start()) return; // the client left while waiting
            f.start(prepared, new StreamTarget(id, 1, null, Map.of()), receivedNanos, receivedEpochNanos, output,
                    (outcome, failure) -> ticket.leave());
        });
    }

    private void error(HttpServerResponse response, int status, String code, String message) {
        OpenAiErrors.send(response, status, "invalid_request_error", code, message);
    }

    /** Writes one request's events as an OpenAI response (whole, or as server-sent events). */
    private final class HttpStreamOutput implements StreamOutput {
        private final HttpServerResponse response;
        private final String id;
        private final String model;
        private final boolean chat;
        private final boolean stream;
        private final boolean includeUsage;
        private final long created;
        private final StringBuilder[] texts;
        /** Renders logprobs and prompt logprobs. */
        private final OpenAiLogprobs renderer;
        /** Renders the sampled tokens' logprobs; null when the request asked for none (the field is then null). */
        private final OpenAiLogprobs logprobs;
        private boolean headerSent;
        volatile boolean finished;
        /** The output may be tool calls: streamed text is held back while it still may (TOOLS.md §6). */
        boolean toolCalls;
        private final StringBuilder heldBack = new StringBuilder();

        HttpStreamOutput(HttpServerResponse response, String id, String model, boolean chat, boolean stream,
                         boolean includeUsage, long created, int choices, OpenAiLogprobs renderer, boolean logprobs) {
            this.texts = new StringBuilder[choices];
            for (int i = 0; i < choices; i++) texts[i] = new StringBuilder();
            this.renderer = renderer;
            this.logprobs = logprobs ? renderer : null;
            this.response = response;
            this.id = id;
            this.model = model;
            this.chat = chat;
            this.stream = stream;
            this.includeUsage = includeUsage;
            this.created = created;
        }

        @Override
        public CompletionStage<Void> publish(StreamTarget target, int seq, StreamEvent event) {
            if (event instanceof StreamEvent.Done || event instanceof StreamEvent.Error) {
                finished = true;
                metrics.finished(event);
            }
            if (response.closed()) return CompletableFuture.completedFuture(null);
            switch (event) {
                case StreamEvent.Started s -> {
                    if (stream) {
                        response.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache");
                        headerSent = true;
                        if (chat) {
                            for (int i = 0; i < texts.length - 1; i++) sse(roleChunk(i));
                            return sse(roleChunk(texts.length - 1));
                        }
                    }
                }
                case StreamEvent.Delta d -> {
                    int index = d.index() == null ? 0 : d.index();
                    if (!stream) {
                        texts[index].append(d.text());
                        if (logprobs != null) logprobs.add(index, d);
                    } else if (toolCalls && !d.text().isEmpty()) {
                        // Text that may still be a call is held back until it is known not to be one.
                        heldBack.append(d.text());
                        if (!ToolCallParser.mayStartCall(heldBack.toString())) {
                            toolCalls = false;
                            return sse(chunk(index, heldBack.toString(), null, null));
                        }
                    } else if (!d.text().isEmpty() || logprobs != null && d.logprobs() != null) {
                        return sse(chunk(index, d.text(), null, logprobs == null ? null : logprobs.ofDelta(index, d)));
                    }
                }
                case StreamEvent.Done d -> {
                    if (stream) {
                        if (d.toolCalls() != null) sse(toolCallChunk(d.toolCalls()));
                        else if (toolCalls && !heldBack.isEmpty()) sse(chunk(0, heldBack.toString(), null, null));
                        for (int i = 0; i < texts.length; i++) {
                            ObjectNode last = chunk(i, null, reason(d, i), null);
                            if (d.promptLogprobs() != null) putPromptLogprobs(last, (ObjectNode) last.path("choices").get(0), d);
                            sse(last);
                        }
                        if (includeUsage) sse(usageChunk(d.usage()));
                        return toStage(response.end("data: [DONE]\n\n"));
                    }
                    ObjectNode out = envelope(chat ? "chat.completion" : "text_completion");
                    ArrayNode choices = out.putArray("choices");
                    for (int i = 0; i < texts.length; i++) {
                        ObjectNode choice = choices.addObject().put("index", i);
                        if (chat && d.toolCalls() != null) {
                            ObjectNode message = choice.putObject("message").put("role", "assistant").putNull("content");
                            message.set("tool_calls", toolCallArray(d.toolCalls(), false));
                        } else if (chat) choice.putObject("message").put("role", "assistant").put("content", texts[i].toString());
                        else choice.put("text", texts[i].toString());
                        if (logprobs == null) choice.putNull("logprobs");
                        else choice.set("logprobs", logprobs.whole(i));
                        choice.put("finish_reason", reason(d, i));
                        if (d.promptLogprobs() != null) putPromptLogprobs(out, choice, d);
                    }
                    out.set("usage", usage(d.usage()));
                    return toStage(response.putHeader("Content-Type", "application/json").end(out.toString()));
                }
                case StreamEvent.Error e -> {
                    ObjectNode err = mapper.createObjectNode();
                    err.putObject("error").put("message", e.message()).put("type", "server_error").put("code", e.code());
                    if (headerSent) return toStage(response.end("data: " + err + "\n\ndata: [DONE]\n\n"));
                    int status = "deadline_exceeded".equals(e.code()) ? 504 : "invalid_request".equals(e.code()) ? 400 : 500;
                    return toStage(response.setStatusCode(status).putHeader("Content-Type", "application/json").end(err.toString()));
                }
            }
            return CompletableFuture.completedFuture(null);
        }

        private ObjectNode envelope(String object) {
            return mapper.createObjectNode().put("id", id).put("object", object).put("created", created).put("model", model);
        }

        /** vLLM's places: top level of a chat answer or chunk, each choice of a completion. */
        private void putPromptLogprobs(ObjectNode out, ObjectNode choice, StreamEvent.Done d) {
            (chat ? out : choice).set("prompt_logprobs", renderer.prompt(d.promptLogprobs()));
        }

        /** Choice i's finish reason in OpenAI's words (a cancel is "abort", as vLLM says). */
        private static String reason(StreamEvent.Done d, int i) {
            String r = d.choices() == null ? d.finishReason() : d.choices().get(i).finishReason();
            return "cancelled".equals(r) ? "abort" : r;
        }

        /** The first chat chunk of a choice: the assistant role, no content yet. */
        private ObjectNode roleChunk(int index) {
            ObjectNode out = envelope("chat.completion.chunk");
            ObjectNode choice = out.putArray("choices").addObject().put("index", index);
            choice.putObject("delta").put("role", "assistant").put("content", "");
            choice.putNull("finish_reason");
            return out;
        }

        /** A streamed piece of a choice's text (null: none), with the finish reason on its last chunk. */
        private ObjectNode chunk(int index, String piece, String finishReason, ObjectNode pieceLogprobs) {
            ObjectNode out = envelope(chat ? "chat.completion.chunk" : "text_completion");
            ObjectNode choice = out.putArray("choices").addObject().put("index", index);
            if (chat) {
                ObjectNode delta = choice.putObject("delta");
                if (piece != null) delta.put("content", piece);
            } else {
                choice.put("text", piece == null ? "" : piece);
            }
            if (pieceLogprobs == null) choice.putNull("logprobs");
            else choice.set("logprobs", pieceLogprobs);
            if (finishReason == null) choice.putNull("finish_reason");
            else choice.put("finish_reason", finishReason);
            return out;
        }

        /** The calls as one chunk: {@code delta.tool_calls}, each with its index, id, type, name and whole arguments. */
        private ObjectNode toolCallChunk(java.util.List<ToolCallOutput> calls) {
            ObjectNode out = envelope("chat.completion.chunk");
            ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
            choice.putObject("delta").set("tool_calls", toolCallArray(calls, true));
            choice.putNull("finish_reason");
            return out;
        }

        private ArrayNode toolCallArray(java.util.List<ToolCallOutput> calls, boolean indexed) {
            ArrayNode array = mapper.createArrayNode();
            for (int i = 0; i < calls.size(); i++) {
                ObjectNode call = array.addObject();
                if (indexed) call.put("index", i);
                call.put("id", calls.get(i).id()).put("type", "function");
                call.putObject("function").put("name", calls.get(i).name()).put("arguments", calls.get(i).arguments());
            }
            return array;
        }

        private ObjectNode usageChunk(StreamEvent.Usage u) {
            ObjectNode out = envelope(chat ? "chat.completion.chunk" : "text_completion");
            out.putArray("choices");
            out.set("usage", usage(u));
            return out;
        }

        private ObjectNode usage(StreamEvent.Usage u) {
            ObjectNode n = mapper.createObjectNode().put("prompt_tokens", u.promptTokens())
                    .put("completion_tokens", u.completionTokens())
                    .put("total_tokens", u.promptTokens() + u.completionTokens());
            ObjectNode details = n.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
            if (u.imageTokens() > 0) details.put("image_tokens", u.imageTokens());
            return n;
        }

        private CompletionStage<Void> sse(ObjectNode chunk) {
            return toStage(response.write("data: " + chunk + "\n\n"));
        }

        private CompletionStage<Void> toStage(io.vertx.core.Future<Void> future) {
            return future.toCompletionStage();
        }
    }
}
