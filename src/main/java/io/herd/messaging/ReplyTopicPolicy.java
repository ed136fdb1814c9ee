package io.herd.messaging;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which topics a request may name in {@code reply_to}. Why: without a rule a client could make Herd write into its
 * own requests topic (amplification), the attempts ledger (poisoning it), the control or dead-letter topics, Kafka's
 * internal topics or another tenant's replies. A topic qualifies only if it matches {@code herd.reply-to.allowed}
 * and is none of the service's internal topics and does not start with {@code __}.
 */
public final class ReplyTopicPolicy {

    /** Legal Kafka topic names (what the broker would accept at all). */
    static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private final Pattern allowed;
    private final String responses;
    private final Set<String> internal;

    /**
     * @param allowed   the full-match pattern reply topics must match
     * @param responses the default responses topic (always allowed: it is where events go without reply_to)
     * @param internal  the service's own topics (requests, control, attempts, DLQ): never a reply topic
     */
    public ReplyTopicPolicy(Pattern allowed, String responses, Set<String> internal) {
        this.allowed = allowed;
        this.responses = responses;
        this.internal = Set.copyOf(internal);
    }

    /** Null when {@code topic} may receive events; otherwise why not. */
    public String refusal(String topic) {
        if (topic == null || !TOPIC_NAME.matcher(topic).matches()) return "reply_to is not a legal topic name";
        if (topic.startsWith("__")) return "reply_to names an internal Kafka topic";
        if (internal.contains(topic)) return "reply_to names one of the service's own topics";
        if (!topic.equals(responses) && !allowed.matcher(topic).matches()) return "reply_to does not match the allowed pattern " + allowed.pattern();
        return null;
    }

    public boolean allows(String topic) { return refusal(topic) == null; }
}
