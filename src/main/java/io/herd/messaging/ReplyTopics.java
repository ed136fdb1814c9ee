package io.herd.messaging;

import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks that a request's reply_to topic exists before any event is sent there. Why: the producer waits up to
 * max.block.ms for metadata of a missing topic, and that wait would hold up every stream's events behind it.
 * Existing topics are remembered; the check itself is asynchronous.
 */
@ApplicationScoped
public class ReplyTopics {

    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafkaConfig;

    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private Admin admin;

    public CompletionStage<Boolean> exists(String topic) {
        if (known.contains(topic)) return CompletableFuture.completedFuture(true);
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        admin().describeTopics(List.of(topic)).allTopicNames().whenComplete((names, error) -> {
            if (error == null) {
                known.add(topic);
                result.complete(true);
            } else if (error instanceof UnknownTopicOrPartitionException
                    || error.getCause() instanceof UnknownTopicOrPartitionException) {
                result.complete(false);
            } else {
                result.completeExceptionally(error);
            }
        });
        return result;
    }

    private synchronized Admin admin() {
        if (admin == null) {
            admin = Admin.create(AdminSettings.from(kafkaConfig, "herd-reply-topics"));
        }
        return admin;
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) admin.close();
    }
}
