package io.herd.messaging;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PartitionWorkTest {

    @Test
    void recordsOfPartitionsNotOwnedAreNotTaken() {
        PartitionWork work = new PartitionWork();
        assertThat(work.open(0, 1)).isNull();
        work.assign(List.of(0, 1));
        assertThat(work.open(0, 1)).isNotNull();
        work.revoke(List.of(0));
        assertThat(work.open(0, 2)).as("revoked").isNull();
        assertThat(work.open(1, 2)).isNotNull();
        assertThat(work.ownedPartitions()).containsExactly(1);
    }

    @Test
    void aRecordWaitingForAdmissionWhenItsPartitionIsRevokedNeverAdvances() {
        PartitionWork work = new PartitionWork();
        work.assign(List.of(3));
        PartitionWork.Ticket t = work.open(3, 10);
        work.identify(t, "r1");
        List<PartitionWork.Revoked> revoked = work.revoke(List.of(3));
        assertThat(revoked).singleElement().satisfies(r -> {
            assertThat(r.stage()).isEqualTo(PartitionWork.Stage.ACCEPTED);
            assertThat(r.requestId()).isEqualTo("r1");
            assertThat(r.settled()).isDone();
        });
        assertThat(t.revoked()).isTrue();
        assertThat(work.advance(t, PartitionWork.Stage.RUNNING, new CompletableFuture<>())).isFalse();
        assertThat(work.openCount()).isZero();
    }

    @Test
    void aRevokeSeesTheWriteItMustWaitFor() {
        PartitionWork work = new PartitionWork();
        work.assign(List.of(0));
        PartitionWork.Ticket t = work.open(0, 1);
        work.identify(t, "r2");
        CompletableFuture<Void> stream = new CompletableFuture<>();
        assertThat(work.advance(t, PartitionWork.Stage.RUNNING, stream)).isTrue();
        List<PartitionWork.Revoked> revoked = work.revoke(List.of(0));
        assertThat(revoked).singleElement().satisfies(r -> {
            assertThat(r.stage()).isEqualTo(PartitionWork.Stage.RUNNING);
            assertThat(r.settled()).isSameAs(stream);
        });
        assertThat(t.revoked()).isTrue();
    }

    @Test
    void runningRecordsAreListedForTheirStreamsToBeStopped() {
        PartitionWork work = new PartitionWork();
        work.assign(List.of(0, 1));
        PartitionWork.Ticket a = work.open(0, 1);
        work.identify(a, "a");
        PartitionWork.Ticket b = work.open(1, 1);
        work.identify(b, "b");
        CompletableFuture<Void> stream = new CompletableFuture<>();
        work.advance(a, PartitionWork.Stage.RUNNING, stream);
        assertThat(work.requestIds(PartitionWork.Stage.RUNNING)).containsExactly("a");
        List<PartitionWork.Revoked> revoked = work.revoke(List.of(0));
        assertThat(revoked).extracting(PartitionWork.Revoked::requestId).containsExactly("a");
        assertThat(revoked.getFirst().settled()).isSameAs(stream);
        assertThat(work.openCount()).as("partition 1 untouched").isEqualTo(1);
    }

    @Test
    void aRestartRunsTheRecordAgainOnlyWhileOwned() {
        PartitionWork work = new PartitionWork();
        work.assign(List.of(0));
        PartitionWork.Ticket t = work.open(0, 1);
        work.advance(t, PartitionWork.Stage.RUNNING, new CompletableFuture<>());
        assertThat(work.restart(t)).isTrue();
        assertThat(t.stage()).isEqualTo(PartitionWork.Stage.ACCEPTED);
        work.revoke(List.of(0));
        assertThat(work.restart(t)).isFalse();
    }

    @Test
    void stagesOnlyMoveForward() {
        PartitionWork work = new PartitionWork();
        work.assign(List.of(0));
        PartitionWork.Ticket t = work.open(0, 1);
        work.advance(t, PartitionWork.Stage.RUNNING, new CompletableFuture<>());
        assertThatThrownBy(() -> work.advance(t, PartitionWork.Stage.ACCEPTED, new CompletableFuture<>()))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aClosedRecordIsForgottenAndCannotAdvance() {
        PartitionWork work = new PartitionWork();
        work.assign(List.of(0));
        PartitionWork.Ticket t = work.open(0, 1);
        work.close(t);
        assertThat(work.openCount()).isZero();
        assertThat(work.advance(t, PartitionWork.Stage.RUNNING, new CompletableFuture<>())).isFalse();
        assertThat(work.revoke(List.of(0))).isEmpty();
    }
}
