package io.herd.app;

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

/** Liveness: the engine and output threads have not failed. Readiness: model loaded and partitions assigned. */
@ApplicationScoped
public class HerdHealth {

    @Inject ModelHost model;
    @Inject RequestConsumer consumer;
    @Inject Instance<Frontend> frontend;

    @Produces
    @Liveness
    HealthCheck alive() {
        return () -> {
            Throwable engine = model.engineFailure();
            Throwable output = frontend.isResolvable() ? frontend.get().failure() : null;
            return HealthCheckResponse.named("herd-engine").status(engine == null && output == null)
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
            return HealthCheckResponse.named("herd-serving").status(loaded && partitions)
                    .withData("model-loaded", loaded)
                    .withData("partitions", consumer.assignedPartitions().toString()).build();
        };
    }
}
