package io.herd.app;

import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import io.herd.messaging.AdminSettings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * On a clean shutdown, removes this static member from the requests group once the connector has closed its consumer.
 *
 * <p>Why: a static member (group.instance.id) sends no leave request when it closes, so the group keeps its
 * partitions for it until the session timeout passes, betting on a restart under the same id. In Kubernetes that id is
 * the pod name, and a rollout or scale-down starts pods under new names: the bet never pays, and the partitions would
 * sit idle for the whole session timeout. Removing the member hands them on at once. A container restarted in place
 * (crash, liveness) never gets here and keeps the fast return. {@code herd.kafka.leave-group-on-shutdown=false} keeps
 * the member for setups that restart under the same id (StatefulSets).
 */
@ApplicationScoped
public class GroupDeparture {

    private static final Logger LOG = Logger.getLogger(GroupDeparture.class);

    @Inject HerdConfig config;
    @Inject @Identifier("default-kafka-broker") Map<String, Object> kafkaConfig;

    @ConfigProperty(name = "mp.messaging.incoming.requests.group.instance.id")
    Optional<String> instanceId;

    // After the connector closed its clients (priority 50 of the same event), before the embedded broker stops (100).
    void leave(@Observes @Priority(90) @BeforeDestroyed(ApplicationScoped.class) Object event) {
        if (!config.kafka().leaveGroupOnShutdown() || instanceId.isEmpty() || instanceId.get().isBlank()) return;
        try (Admin client = Admin.create(AdminSettings.from(kafkaConfig, "herd-group-departure"))) {
            client.removeMembersFromConsumerGroup(config.kafka().groupId(), new RemoveMembersFromConsumerGroupOptions(
                    List.of(new MemberToRemove(instanceId.get())))).all().get(10, TimeUnit.SECONDS);
            LOG.infof("left consumer group %s as static member %s", config.kafka().groupId(), instanceId.get());
        } catch (Exception e) {
            LOG.warnf("could not leave consumer group %s as %s (its partitions move after the session timeout): %s",
                    config.kafka().groupId(), instanceId.get(), e.toString());
        } catch (Throwable t) {
            LOG.warnf("could not leave consumer group: %s", t.toString());
        }
    }
}
