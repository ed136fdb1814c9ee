package io.herd.messaging;

import org.apache.kafka.clients.admin.AdminClientConfig;

import java.util.HashMap;
import java.util.Map;

/** Admin-client settings taken from the service's Kafka client settings (bootstrap, TLS/SASL), with a client id. */
public final class AdminSettings {

    private AdminSettings() {}

    /** The keys of {@code kafkaConfig} an admin client knows (the rest would only be warned about), plus its id. */
    public static Map<String, Object> from(Map<String, Object> kafkaConfig, String clientId) {
        Map<String, Object> config = new HashMap<>();
        kafkaConfig.forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) config.put(k, v);
        });
        if (clientId != null) config.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        return config;
    }
}
