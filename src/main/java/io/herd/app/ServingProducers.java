package io.herd.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herd.messaging.EventCodec;
import io.herd.messaging.MembershipFence;
import io.herd.messaging.PartitionWork;
import io.herd.messaging.ReplyTopicPolicy;
import io.herd.messaging.RequestCodec;
import io.herd.messaging.ResponsePublisher;
import io.herd.serving.Frontend;
import io.herd.serving.RequestValidator;
import io.herd.serving.ServingLimits;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.Set;
import java.util.regex.Pattern;

/** Wires the serving layer to the loaded model and the Kafka publisher. */
public final class ServingProducers {

    @Produces
    @Singleton
    RequestCodec requestCodec(ObjectMapper mapper) { return new RequestCodec(mapper); }

    @Produces
    @Singleton
    EventCodec eventCodec(ObjectMapper mapper) { return new EventCodec(mapper); }

    @Produces
    @Singleton
    PartitionWork partitionWork() { return new PartitionWork(); }

    @Produces
    @Singleton
    ReplyTopicPolicy replyTopicPolicy(HerdConfig config) {
        HerdConfig.Kafka.Topics t = config.kafka().topics();
        return new ReplyTopicPolicy(Pattern.compile(config.replyTo().allowed()), t.responses(),
                Set.of(t.requests(), t.control(), t.attempts(), t.dlq()));
    }

    @Produces
    @Singleton
    RequestValidator validator(ModelHost model, HerdConfig config) {
        HerdConfig.Serving s = config.serving();
        ServingLimits limits = new ServingLimits(model.engine().maxModelLength(), s.maxTokensLimit(), s.defaultMaxTokens(),
                Set.of(model.modelName()), s.maxStopStrings());
        return new RequestValidator(limits, model.codec(), model.imagePrompts());
    }

    @Produces
    @Singleton
    Frontend frontend(ModelHost model, ResponsePublisher publisher, MembershipFence fence, HerdConfig config,
                      MeterRegistry registry) {
        HerdConfig.Serving s = config.serving();
        Frontend frontend = new Frontend(model.engine(), publisher, new Frontend.Config(s.maxInFlight(),
                s.maxDeltaLatency(), s.maxUnackedDeltas(), s.submitRetry(), Duration.ofMinutes(10)), fence);
        Gauge.builder("herd.requests_in_flight", frontend, Frontend::inFlight)
                .description("Requests admitted and not finished (bounded by herd.serving.max-in-flight)").register(registry);
        Gauge.builder("herd.admission_waiting", frontend, Frontend::waitingForAdmission)
                .description("Records held back because the admission queue is full (consumption paused)").register(registry);
        return frontend;
    }

    void closeFrontend(@Disposes Frontend frontend) { frontend.close(); }
}
