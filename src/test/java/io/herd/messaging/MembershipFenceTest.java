package io.herd.messaging;

import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatCode;

class MembershipFenceTest {

    @Test
    void itsAdminClientCanBeCreatedFromTheServiceSettings() {
        // Creating the client does not connect; an invalid combination of timeouts fails right here.
        Map<String, Object> service = Map.of("bootstrap.servers", "127.0.0.1:9", "group.id", "ignored-by-admin");
        assertThatCode(() -> {
            try (Admin admin = Admin.create(MembershipFence.adminConfig(service))) {
                // created
            }
        }).doesNotThrowAnyException();
    }
}
