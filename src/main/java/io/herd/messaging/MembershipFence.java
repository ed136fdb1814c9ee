package io.herd.messaging;

import io.herd.serving.PublishGate;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Closes the publish gate after this process stood still (frozen, suspended, a very long GC pause) for longer than half
 * the consumer group's session timeout, and opens it again once the group coordinator confirms this member still holds
 * the partitions it believes it owns.
 *
 * <p>Why: a member silent past the session timeout is dropped, and its partitions go to another instance, which runs
 * their requests again as the next attempt. When the frozen process resumes, its threads carry on where they stopped;
 * until its consumer learns it lost the partitions, its streams would publish events of the old attempt after the
 * new attempt started. The gate holds those events; the rebalance callback then abandons the streams (their held
 * events are dropped) and the gate opens for the streams still owned. Records taken before the stall wait at the
 * gate too before their running marker is written ({@link #whenOpen}), so none of them starts an attempt that the
 * partition's new owner has started as well.
 */
@ApplicationScoped
public class MembershipFence implements PublishGate {

    private static final Logger LOG = Logger.getLogger(MembershipFence.class);
    private static final long TICK_MS = 100;
    private static final long CHECK_EVERY_MS = 500;

    @Inject PartitionWork work;

    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafkaConfig;

    @ConfigProperty(name = "herd.kafka.group-id", defaultValue = "herd")
    String groupId;

    @ConfigProperty(name = "herd.kafka.topics.requests", defaultValue = "herd.requests")
    String requestsTopic;

    @ConfigProperty(name = "mp.messaging.incoming.requests.group.instance.id")
    Optional<String> instanceId;

    @ConfigProperty(name = "mp.messaging.incoming.requests.client.id")
    Optional<String> clientId;

    @ConfigProperty(name = "mp.messaging.incoming.requests.session.timeout.ms", defaultValue = "10000")
    long sessionTimeoutMs;

    @ConfigProperty(name = "mp.messaging.incoming.requests.heartbeat.interval.ms", defaultValue = "3000")
    long heartbeatIntervalMs;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("herd-membership-fence").daemon().factory());
    private volatile long lastTickNanos = System.nanoTime();
    private volatile boolean suspended;
    private Admin admin;

    @jakarta.annotation.PostConstruct
    void start() {
        timer.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    private long stallNanos() { return TimeUnit.MILLISECONDS.toNanos(sessionTimeoutMs / 2); }

    @Override
    public boolean isOpen(long nowNanos) {
        // A stale tick means the ticker has not run since before a stall: this thread woke first.
        if (!suspended && nowNanos - lastTickNanos > stallNanos()) suspend(nowNanos - lastTickNanos);
        return !suspended;
    }

    private final List<CompletableFuture<Void>> waiting = new ArrayList<>();

    @Override
    public CompletionStage<Void> whenOpen() {
        if (isOpen(System.nanoTime())) return CompletableFuture.completedFuture(null);
        synchronized (this) {
            if (!suspended) return CompletableFuture.completedFuture(null);
            CompletableFuture<Void> f = new CompletableFuture<>();
            waiting.add(f);
            return f;
        }
    }

    /** True while events are held. */
    public boolean suspended() { return suspended; }

    private void tick() {
        long now = System.nanoTime();
        long gap = now - lastTickNanos;
        if (!suspended && gap > stallNanos()) suspend(gap);
        lastTickNanos = now;
        if (suspended && now >= nextCheckNanos) {
            nextCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(CHECK_EVERY_MS);
            Membership m = membership();
            // Only when the coordinator cannot be asked does time alone open the gate: a member it does not list with
            // exactly our partitions (dropped, or the group still rebalancing) keeps the events held.
            if (m == Membership.CONFIRMED || (m == Membership.UNKNOWN && settled(now))) {
                suspended = false;
                List<CompletableFuture<Void>> ready;
                synchronized (this) {
                    ready = List.copyOf(waiting);
                    waiting.clear();
                }
                ready.forEach(f -> f.complete(null));
                LOG.infof("group membership confirmed for partitions %s: stream events flow again", work.ownedPartitions());
            }
        }
    }

    private volatile long nextCheckNanos;
    private volatile long suspendedAtNanos;

    /**
     * The other way to know, used only while the coordinator cannot be asked: two heartbeat intervals and a second
     * after the stall, the consumer has heartbeated since
     * the process resumed. Had the group dropped this member, that heartbeat was refused and the consumer's next poll
     * reported the partitions lost, which abandons their streams and drops their held events and records; what is
     * still owned after that is owned for sure.
     */
    private boolean settled(long nowNanos) {
        return nowNanos - suspendedAtNanos >= TimeUnit.MILLISECONDS.toNanos(2 * heartbeatIntervalMs + 1000);
    }

    private synchronized void suspend(long gapNanos) {
        if (suspended) return;
        suspended = true;
        suspendedAtNanos = System.nanoTime();
        nextCheckNanos = 0;
        LOG.warnf("the process stood still for %d ms (over half the %d ms session timeout): holding stream events until"
                + " the group confirms this member still owns its partitions", gapNanos / 1_000_000, sessionTimeoutMs);
    }

    private enum Membership { CONFIRMED, NOT_CONFIRMED, UNKNOWN }

    /** Does the coordinator list this member, in a stable group, with exactly the partitions we think we own? */
    private Membership membership() {
        try {
            ConsumerGroupDescription group = admin().describeConsumerGroups(List.of(groupId)).all()
                    .get(5, TimeUnit.SECONDS).get(groupId);
            if (group.groupState() != GroupState.STABLE) return Membership.NOT_CONFIRMED;
            LOG.debugf("membership check: %s", group);
            Set<Integer> owned = work.ownedPartitions();
            for (MemberDescription m : group.members()) {
                if (!isMe(m)) continue;
                Set<Integer> assigned = m.assignment().topicPartitions().stream()
                        .filter(tp -> tp.topic().equals(requestsTopic)).map(TopicPartition::partition)
                        .collect(Collectors.toSet());
                return assigned.equals(owned) ? Membership.CONFIRMED : Membership.NOT_CONFIRMED;
            }
            return owned.isEmpty() ? Membership.CONFIRMED : Membership.NOT_CONFIRMED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Membership.UNKNOWN;
        } catch (Exception e) {
            LOG.infof(e, "membership check failed (the gate opens once the group has settled instead)");
            return Membership.UNKNOWN;
        }
    }

    private boolean isMe(MemberDescription m) {
        if (instanceId.isPresent() && !instanceId.get().isBlank()) {
            return m.groupInstanceId().map(instanceId.get()::equals).orElse(false);
        }
        return clientId.isPresent() && m.clientId().startsWith(clientId.get());
    }

    private synchronized Admin admin() {
        if (admin == null) admin = Admin.create(adminConfig(kafkaConfig));
        return admin;
    }

    /** The fence's admin client: the service's connection settings, and a check that answers within seconds. */
    static Map<String, Object> adminConfig(Map<String, Object> kafkaConfig) {
        Map<String, Object> config = AdminSettings.from(kafkaConfig, "herd-membership-fence");
        // The admin client refuses an API timeout below its request timeout (30 s by default): set both.
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 4000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
        return config;
    }

    @PreDestroy
    synchronized void close() {
        timer.shutdownNow();
        if (admin != null) admin.close();
    }
}
