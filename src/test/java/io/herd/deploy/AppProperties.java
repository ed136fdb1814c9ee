package io.herd.deploy;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The service's {@code src/main/resources/application.properties}, read the way the deployment depends on it (prod profile). */
final class AppProperties {

    /** {@code ${ENV_OR_KEY:default}}: the deployment sees the default unless it sets the variable itself. */
    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{[^:}]+(?::([^}]*))?}");

    private final Properties properties = new Properties();

    AppProperties(Path file) {
        if (Files.isRegularFile(file)) {
            try {
                properties.load(new StringReader(ProjectFiles.read(file)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
    }

    static AppProperties project() {
        return new AppProperties(ProjectFiles.resolve("src/main/resources/application.properties"));
    }

    /** The value for the prod profile ({@code %prod.key} wins over {@code key}), with {@code ${X:default}} resolved to its default. */
    Optional<String> get(String key) {
        String value = properties.getProperty("%prod." + key, properties.getProperty(key));
        if (value == null) {
            return Optional.empty();
        }
        Matcher m = EXPRESSION.matcher(value);
        if (m.matches()) {
            return Optional.ofNullable(m.group(1));
        }
        return Optional.of(value.trim());
    }

    /**
     * The environment variable a property is taken from, for a value written {@code ${VARIABLE:default}}: the
     * deployment sets that variable to change the property. Empty when the value is not such an expression.
     */
    Optional<String> variable(String key) {
        String value = properties.getProperty("%prod." + key, properties.getProperty(key));
        if (value == null) {
            return Optional.empty();
        }
        Matcher m = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)(?::[^}]*)?}").matcher(value.trim());
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Port of the API (/v1/*): quarkus.http.port. */
    int httpPort() {
        return get("quarkus.http.port").map(Integer::parseInt).orElse(8080);
    }

    /** The consumer group of the request channel: the messaging property, else herd.kafka.group-id, else the agreed "herd". */
    String requestConsumerGroup() {
        return get("mp.messaging.incoming.requests.group.id").or(() -> get("herd.kafka.group-id")).orElse("herd");
    }

    /** Port serving /q/health: the management interface when enabled, else the HTTP port. */
    int healthPort() {
        if (get("quarkus.management.enabled").map(Boolean::parseBoolean).orElse(false)) {
            return get("quarkus.management.port").map(Integer::parseInt).orElse(9000);
        }
        return get("quarkus.http.port").map(Integer::parseInt).orElse(8080);
    }

    /** Path prefix of the non-application endpoints ("/q" unless configured). */
    String nonApplicationRoot() {
        String root = get("quarkus.http.non-application-root-path").orElse("q");
        return root.startsWith("/") ? root : "/" + root;
    }
}
