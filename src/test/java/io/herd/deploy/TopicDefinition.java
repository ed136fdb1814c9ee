package io.herd.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/** One entry of {@code kafka-topics/topics.json}, the single source of truth for topic names, partitions and config. */
record TopicDefinition(String role, String name, int partitions, int replicationFactor, SortedMap<String, String> config) {

    static final Set<String> ROLES = Set.of("requests", "responses", "control", "dlq", "attempts");

    TopicDefinition {
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("topics.json: unknown role '" + role + "' for topic " + name + ", expected one of " + ROLES);
        }
        if (name == null || !name.matches("[a-zA-Z0-9._-]{1,249}")) {
            throw new IllegalArgumentException("topics.json: invalid topic name '" + name + "' for role " + role);
        }
        if (partitions < 1 || replicationFactor < 1) {
            throw new IllegalArgumentException("topics.json: topic " + name + " needs partitions >= 1 and replicationFactor >= 1, got "
                    + partitions + " and " + replicationFactor);
        }
        config = Collections.unmodifiableSortedMap(new TreeMap<>(config));
    }

    static List<TopicDefinition> load(Path topicsJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(topicsJson.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + topicsJson, e);
        }
        JsonNode topics = root.path("topics");
        if (!topics.isArray() || topics.isEmpty()) {
            throw new IllegalArgumentException(topicsJson + ": field 'topics' must be a non-empty array");
        }
        List<TopicDefinition> result = new ArrayList<>();
        for (JsonNode topic : topics) {
            SortedMap<String, String> config = new TreeMap<>();
            for (Map.Entry<String, JsonNode> entry : topic.path("config").properties()) {
                if (!entry.getValue().isTextual()) {
                    throw new IllegalArgumentException(topicsJson + ": config " + entry.getKey() + " of topic "
                            + topic.path("name").asText() + " must be a string, as Kafka takes it");
                }
                config.put(entry.getKey(), entry.getValue().asText());
            }
            result.add(new TopicDefinition(required(topicsJson, topic, "role").asText(), required(topicsJson, topic, "name").asText(),
                    required(topicsJson, topic, "partitions").asInt(), required(topicsJson, topic, "replicationFactor").asInt(), config));
        }
        return List.copyOf(result);
    }

    static List<TopicDefinition> loadProject() {
        return load(ProjectFiles.resolve("kafka-topics/topics.json"));
    }

    static TopicDefinition byRole(List<TopicDefinition> topics, String role) {
        return topics.stream().filter(t -> t.role().equals(role)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("topics.json has no topic with role " + role));
    }

    private static JsonNode required(Path file, JsonNode topic, String field) {
        JsonNode value = topic.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException(file + ": topic entry " + topic + " lacks field '" + field + "'");
        }
        return value;
    }
}
