package io.herd.app;

import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.Map;

/**
 * With no KAFKA_BOOTSTRAP_SERVERS, starts the embedded KRaft broker and creates the topics of
 * kafka-topics/topics.json before the Kafka connector starts; in either case makes sure the attempts topic matches
 * the requests topic (its startup observer runs at priority 1000; this one
 * at 10). Also loads the model then, so the first record does not wait for it. The broker stops after the
 * connector has closed its clients (the connector terminates at priority 50 of the same event).
 */
@ApplicationScoped
public class KafkaBootstrap {

    private static final Logger LOG = Logger.getLogger(KafkaBootstrap.class);

    @Inject HerdConfig config;
    @Inject ModelHost model;
    @Inject @Identifier("default-kafka-broker") Map<String, Object> kafkaConfig;

    private EmbeddedKafka broker;

    void start(@Observes @Priority(10) StartupEvent event) {
        var external = config.kafka().externalBootstrapServers();
        if (external.isPresent()) {
            LOG.infof("using the Kafka cluster at %s", external.get());
        } else {
            int port = config.kafka().embedded().port();
            if (port <= 0) throw new IllegalStateException("herd.kafka.embedded.port must be a fixed port, got " + port);
            broker = EmbeddedKafka.start(config.dataDir().resolve("kafka"), port);
            TopicProvisioner.ensureTopics(broker.bootstrapServers(), config.kafka().embedded().partitions().orElse(0));
            LOG.infof("embedded Kafka broker on %s (data in %s)", broker.bootstrapServers(), broker.logDir().toAbsolutePath());
        }
        AttemptsTopic.ensure(kafkaConfig, config.kafka().topics().requests(), config.kafka().topics().attempts());
        model.engine();
    }

    void stop(@Observes @Priority(100) @BeforeDestroyed(ApplicationScoped.class) Object event) {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }
}
