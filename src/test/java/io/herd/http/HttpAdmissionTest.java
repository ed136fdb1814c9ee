package io.herd.http;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HttpAdmissionTest {

    /** A shared gate like the frontend's: a fixed number of slots, waiters served in arrival order. */
    static final class FifoSlots implements HttpAdmission.SharedSlots {
        final int capacity;
        final ArrayDeque<CompletableFuture<Void>> waiters = new ArrayDeque<>();
        int used;

        FifoSlots(int capacity) { this.capacity = capacity; }

        @Override
        public CompletionStage<Void> acquire() {
            if (used < capacity) {
                used++;
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> w = new CompletableFuture<>();
            waiters.add(w);
            return w;
        }

        @Override
        public void release() {
            assertThat(used).as("released more than taken").isPositive();
            CompletableFuture<Void> next = waiters.poll();
            if (next == null) used--;
            else next.complete(null);
        }
    }

    static boolean admitted(HttpAdmission.Ticket t) { return t.admitted().toCompletableFuture().isDone(); }

    @Test
    void theQuotaIsTheShareOfMaxInFlightAndAtLeastOne() {
        assertThat(HttpAdmission.quotaOf(256, 0.5)).isEqualTo(128);
        assertThat(HttpAdmission.quotaOf(5, 0.5)).isEqualTo(2);
        assertThat(HttpAdmission.quotaOf(1, 0.5)).isEqualTo(1);
        assertThat(HttpAdmission.quotaOf(8, 1.0)).isEqualTo(8);
        assertThatThrownBy(() -> new HttpAdmission(8, 0, 1, new FifoSlots(8))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HttpAdmission(8, 1.5, 1, new FifoSlots(8))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HttpAdmission(8, 0.5, -1, new FifoSlots(8))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anHttpFloodHoldsAtMostItsShareAndKafkaKeepsTheRest() {
        FifoSlots shared = new FifoSlots(4);
        HttpAdmission http = new HttpAdmission(4, 0.5, 3, shared);
        List<HttpAdmission.Ticket> tickets = new ArrayList<>();
        int refused = 0;
        for (int i = 0; i < 100; i++) {
            HttpAdmission.Ticket t = http.enter();
            if (t == null) refused++;
            else tickets.add(t);
        }
        assertThat(tickets).hasSize(2 + 3);
        assertThat(refused).isEqualTo(95);
        assertThat(tickets.stream().filter(HttpAdmissionTest::admitted)).hasSize(2);
        assertThat(http.held()).isEqualTo(2);
        assertThat(http.waiting()).isEqualTo(3);
        assertThat(shared.used).isEqualTo(2);

        // Kafka records get the other two slots at once, however many HTTP requests wait.
        assertThat(shared.acquire().toCompletableFuture()).isDone();
        assertThat(shared.acquire().toCompletableFuture()).isDone();
        assertThat(shared.waiters).isEmpty();
    }

    @Test
    void aFinishedHttpStreamPassesItsSlotToTheNextInLine() {
        FifoSlots shared = new FifoSlots(4);
        HttpAdmission http = new HttpAdmission(4, 0.5, 2, shared);
        HttpAdmission.Ticket a = http.enter(), b = http.enter(), c = http.enter();
        assertThat(admitted(a) && admitted(b)).isTrue();
        assertThat(admitted(c)).isFalse();
        assertThat(a.start()).isTrue();
        shared.release(); // the frontend gives back the shared slot when the stream ends ...
        a.leave();        // ... and the stream's completion gives back the HTTP slot
        assertThat(admitted(c)).isTrue();
        assertThat(http.held()).isEqualTo(2);
        assertThat(http.waiting()).isZero();
        a.leave();
        assertThat(http.held()).as("leave is idempotent").isEqualTo(2);
    }

    @Test
    void whenKafkaFillsTheSharedGateHttpWaitsWithinItsLineAndIsServedInTurn() {
        FifoSlots shared = new FifoSlots(2);
        shared.acquire();
        shared.acquire(); // Kafka holds every slot (HTTP had none in use)
        HttpAdmission http = new HttpAdmission(2, 0.5, 2, shared);
        HttpAdmission.Ticket a = http.enter();
        HttpAdmission.Ticket b = http.enter();
        assertThat(a).isNotNull();
        assertThat(b).isNotNull();
        assertThat(http.waiting()).isEqualTo(2);
        assertThat(http.enter()).as("the line is full").isNull();
        assertThat(http.held()).isEqualTo(1);

        shared.release(); // a Kafka record finished
        assertThat(admitted(a)).isTrue();
        assertThat(admitted(b)).isFalse();
        assertThat(http.waiting()).isEqualTo(1);
        assertThat(a.start()).isTrue();
        shared.release(); // another Kafka record finished: b still waits for the HTTP slot, the shared one stays free
        assertThat(admitted(b)).isFalse();
        assertThat(shared.used).isEqualTo(1);
    }

    @Test
    void aClientThatLeavesGivesBackItsPlaceAndAnySlotItWasGranted() {
        FifoSlots shared = new FifoSlots(2);
        shared.acquire();
        shared.acquire();
        HttpAdmission http = new HttpAdmission(4, 0.5, 3, shared);
        HttpAdmission.Ticket waitingShared = http.enter(); // holds an HTTP slot, waits for a shared one
        HttpAdmission.Ticket admittedLater = http.enter();
        HttpAdmission.Ticket queued = http.enter();         // waits for an HTTP slot
        assertThat(http.waiting()).isEqualTo(3);

        assertThat(queued.leaveUnlessStarted()).isTrue();
        assertThat(http.waiting()).isEqualTo(2);
        assertThat(waitingShared.leaveUnlessStarted()).isTrue();
        assertThat(http.held()).as("given back only when the shared slot comes").isEqualTo(2);

        shared.release(); // goes to the departed ticket, which hands it straight on
        assertThat(admitted(admittedLater)).isTrue();
        assertThat(waitingShared.start()).isFalse();
        assertThat(http.held()).isEqualTo(1);
        assertThat(shared.used).isEqualTo(2);

        // Admitted but not started: both slots go back.
        assertThat(admittedLater.leaveUnlessStarted()).isTrue();
        assertThat(admittedLater.start()).isFalse();
        assertThat(http.held()).isZero();
        assertThat(shared.used).isEqualTo(1);
    }

    @Test
    void aStartedStreamIsNotLeftByItsClientsDisconnect() {
        FifoSlots shared = new FifoSlots(2);
        HttpAdmission http = new HttpAdmission(2, 1.0, 0, shared);
        HttpAdmission.Ticket t = http.enter();
        assertThat(t.start()).isTrue();
        assertThat(t.leaveUnlessStarted()).as("must be cancelled instead").isFalse();
        assertThat(http.held()).isEqualTo(1);
        shared.release();
        t.leave();
        assertThat(http.held()).isZero();
    }

    @Test
    void withNoLineAnHttpRequestThatWouldWaitForTheSharedGateIsRefused() {
        FifoSlots shared = new FifoSlots(1);
        shared.acquire(); // Kafka holds the only slot
        HttpAdmission http = new HttpAdmission(1, 1.0, 0, shared);
        assertThat(http.enter()).isNull();
        assertThat(http.held()).as("its HTTP slot waits for the shared grant to hand it back").isEqualTo(1);
        shared.release();
        assertThat(http.held()).isZero();
        assertThat(shared.used).isZero();
    }
}
