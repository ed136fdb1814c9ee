package io.herd.app;

import io.herd.http.ApiKeys;
import io.herd.http.HttpAdmission;
import io.herd.http.HttpBodyLimit;
import io.herd.serving.Frontend;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import java.util.concurrent.CompletionStage;

/** Wires the HTTP edge's guards (API keys, body limit, HTTP share of admission) from {@code herd.http.*}. */
public final class HttpProducers {

    private static final Logger LOG = Logger.getLogger(HttpProducers.class);

    @Produces
    @Singleton
    ApiKeys apiKeys(HerdConfig config) {
        ApiKeys keys = ApiKeys.parse(config.http().apiKeys().orElse(null));
        // The count only: keys are never logged.
        LOG.infof("HTTP /v1: %s", keys.required() ? keys + ", bearer token required" : "no API key required");
        return keys;
    }

    @Produces
    @Singleton
    HttpBodyLimit httpBodyLimit(HerdConfig config) { return new HttpBodyLimit(config.http().maxBodyBytes()); }

    @Produces
    @Singleton
    HttpAdmission httpAdmission(Frontend frontend, HerdConfig config, MeterRegistry registry) {
        HerdConfig.Http http = config.http();
        HttpAdmission admission = new HttpAdmission(frontend.capacity(), http.admissionShare(), http.maxQueue(),
                new HttpAdmission.SharedSlots() {
                    @Override public CompletionStage<Void> acquire() { return frontend.awaitCapacity(); }

                    @Override public void release() { frontend.releaseCapacity(); }
                });
        Gauge.builder("herd.http.admission_waiting", admission, HttpAdmission::waiting)
                .description("HTTP requests waiting for admission (bounded by herd.http.max-queue; past it 429)")
                .register(registry);
        Gauge.builder("herd.http.admission_held", admission, HttpAdmission::held)
                .description("Admission slots held by HTTP requests (bounded by herd.http.admission-share of max-in-flight)")
                .register(registry);
        return admission;
    }

    /** Creates the HTTP admission at start rather than on the first request, so its gauges are there from the start. */
    void eager(@Observes StartupEvent event, HttpAdmission admission) {
        LOG.debugf("HTTP admission: %d slots of the shared gate, waiting line of %d", admission.quota(),
                admission.waiting());
    }
}
