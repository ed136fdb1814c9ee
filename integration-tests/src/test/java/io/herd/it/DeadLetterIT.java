package io.herd.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Every kind of unservable record lands in the dead-letter topic with its reason, and the consumer goes on. */
class DeadLetterIT {

    static TestKafka.Topics topics;
    static HerdService service;
    static TopicClient client;

    @BeforeAll
    static void start() {
        topics = TestKafka.topics("dlq-" + UUID.randomUUID().toString().substring(0, 8), 2);
        service = HerdService.start("dead-letter", topics, HerdService.env("HERD_MAX_MODEL_LEN", "256",
                "HERD_MAX_TOKENS_LIMIT", "128", "HERD_REPLY_TO_ALLOWED", topics.responses().replace(".", "\\.") + "\\..+"));
        client = new TopicClient(List.of(topics.responses(), topics.dlq()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) client.close();
        if (service != null) service.stop();
    }

    @Test
    void eachBadRecordIsDeadLetteredWithItsReasonAndTheNextRequestIsServed() throws Exception {
        Map<String, String[]> cases = new LinkedHashMap<>(); // key → {value, expected code}
        String p = "dl-" + UUID.randomUUID() + "-";
        cases.put(p + "notjson", new String[] {"this is { not json", "invalid_json"});
        cases.put(p + "array", new String[] {"[1, 2, 3]", "invalid_json"});
        cases.put(p + "type", new String[] {"{\"id\":\"" + p + "type\",\"prompt\":42}", "invalid_type"});
        cases.put(p + "maxtype", new String[] {"{\"id\":\"" + p + "maxtype\",\"prompt\":\"x\",\"max_tokens\":\"many\"}", "invalid_type"});
        cases.put(p + "noprompt", new String[] {"{\"id\":\"" + p + "noprompt\",\"max_tokens\":4}", "missing_prompt"});
        cases.put(p + "long", new String[] {"{\"id\":\"" + p + "long\",\"prompt\":\"" + "llamas graze on the hill ".repeat(120) + "\"}", "prompt_too_long"});
        cases.put(p + "max0", new String[] {"{\"id\":\"" + p + "max0\",\"prompt\":\"x\",\"max_tokens\":0}", "invalid_max_tokens"});
        cases.put(p + "maxbig", new String[] {"{\"id\":\"" + p + "maxbig\",\"prompt\":\"x\",\"max_tokens\":100000}", "invalid_max_tokens"});
        cases.put(p + "model", new String[] {"{\"id\":\"" + p + "model\",\"prompt\":\"x\",\"model\":\"gpt-9\"}", "unknown_model"});
        cases.put(p + "replyto", new String[] {"{\"id\":\"" + p + "replyto\",\"prompt\":\"x\",\"reply_to\":\""
                + topics.responses() + ".no-such-tenant\"}", "unknown_reply_topic"});
        cases.put(p + "replyreq", new String[] {"{\"id\":\"" + p + "replyreq\",\"prompt\":\"x\",\"reply_to\":\""
                + topics.requests() + "\"}", "reply_to_not_allowed"});
        cases.put(p + "replyother", new String[] {"{\"id\":\"" + p + "replyother\",\"prompt\":\"x\",\"reply_to\":\"other.team\"}",
                "reply_to_not_allowed"});
        cases.put(p + "priority", new String[] {"{\"id\":\"" + p + "priority\",\"prompt\":\"x\",\"priority\":-2147483648}", "invalid_parameter"});
        for (var c : cases.entrySet()) client.send(topics.requests(), c.getKey(), c.getValue()[0]);
        String keyless = "{\"prompt\": 1}";
        client.send(topics.requests(), null, keyless);
        String good = p + "good";
        client.send(topics.requests(), good, "{\"id\":\"" + good + "\",\"prompt\":\"After the bad ones\",\"max_tokens\":4,\"temperature\":0}");

        await().atMost(Duration.ofSeconds(90)).until(() -> Streams.finished(client.events(topics.responses(), good))
                && cases.keySet().stream().allMatch(k -> !client.records(topics.dlq(), k).isEmpty())
                && client.all(topics.dlq()).stream().anyMatch(r -> keyless.equals(r.value())));

        for (var c : cases.entrySet()) {
            String key = c.getKey();
            String code = c.getValue()[1];
            List<TopicClient.Received> dead = client.records(topics.dlq(), key);
            assertThat(dead).as("dead letters of %s", key).hasSize(1);
            assertThat(dead.getFirst().value()).as("the record is dead-lettered unchanged").isEqualTo(c.getValue()[0]);
            assertThat(dead.getFirst().headers()).containsEntry("herd-dlq-code", code)
                    .containsKey("herd-dlq-message").containsKey("dead-letter-reason")
                    .containsEntry("dead-letter-topic", topics.requests());
            // The id is recoverable for all of these (key or field): an error event with the same code follows.
            List<JsonNode> events = client.events(topics.responses(), key);
            assertThat(events).as("error event for %s", key).hasSize(1);
            assertThat(events.getFirst().path("type").asText()).isEqualTo("error");
            assertThat(events.getFirst().path("code").asText()).isEqualTo(code);
            assertThat(events.getFirst().path("attempt").asInt()).isEqualTo(1);
        }
        assertThat(client.all(topics.dlq()).stream().filter(r -> keyless.equals(r.value())).findFirst().orElseThrow()
                .headers()).containsEntry("herd-dlq-code", "invalid_request");
        Streams.assertWellFormed(good, Streams.result(client.events(topics.responses(), good)));
        assertThat(StreamingIT.metric(service, "herd_dlq_records_total")).isGreaterThanOrEqualTo(cases.size() + 1);
    }

    @Test
    void aDeadlineThatPassedIsAnErrorNotADeadLetter() throws Exception {
        String id = "deadline-" + UUID.randomUUID();
        client.send(topics.requests(), id, "{\"id\":\"" + id + "\",\"prompt\":\"late\",\"deadline_ms\":"
                + (System.currentTimeMillis() - 1000) + "}");
        await().atMost(Duration.ofSeconds(60)).until(() -> Streams.finished(client.events(topics.responses(), id)));
        JsonNode error = Streams.result(client.events(topics.responses(), id)).getLast();
        assertThat(error.path("code").asText()).isEqualTo("deadline_exceeded");
        assertThat(client.records(topics.dlq(), id)).isEmpty();
    }
}
