package io.herd.app;

import io.herd.messaging.BrokerWrites;
import io.herd.messaging.DeadLetters;
import io.herd.messaging.RequestConsumer;
import io.herd.serving.Frontend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Liveness: the engine and output threads have not failed, and the brokers have not left every write unacknowledged
 * for longer than herd.kafka.outage.not-live-after. Readiness: model loaded, partitions assigned, no dead letter
 * waiting for a retry, and writes not stalled past herd.kafka.outage.unready-after.
 */
@ApplicationScoped
public class HerdHealth {

    @Inject ModelHost model;
    @Inject RequestConsumer consumer;
    @Inject Instance<Frontend> frontend;
    @Inject BrokerWrites writes;
    @Inject DeadLetters deadLetters;
    @Inject HerdConfig config;

    @Produces
    @Liveness
    HealthCheck alive() {
        return () -> {
            Throwable engine = model.engineFailure();
            Throwable output = frontend.isResolvable() ? frontend.get().failure() : null;
            long stalledMs = writes.stalledNanos() / 1_000_000;
            boolean brokers = stalledMs < config.kafka().outage().notLiveAfter().toMillis();
            return HealthCheckResponse.named("herd-engine").status(engine == null && output == null && brokers)
                    .withData("kafka-writes-stalled-ms", stalledMs)
                    .withData("engine", engine == null ? "ok" : String.valueOf(engine))
                    .withData("output", output == null ? "ok" : String.valueOf(output)).build();
        };
    }

    @Produces
    @Readiness
    HealthCheck ready() {
        return () -> {
            boolean loaded = model.ready();
            boolean partitions = consumer.hasPartitions();
            long stalledMs = writes.stalledNanos() / 1_000_000;
            boolean brokers = stalledMs < config.kafka().outage().unreadyAfter().toMillis();
            int dlqRetrying = deadLetters.failing();
            return HealthCheckResponse.named("herd-serving").status(loaded && partitions && brokers && dlqRetrying == 0)
                    .withData("model-loaded", loaded)
                    .withData("kafka-writes-stalled-ms", stalledMs)
                    .withData("dead-letters-retrying", dlqRetrying)
                    .withData("partitions", consumer.assignedPartitions().toString()).build();
        };
    }
}
