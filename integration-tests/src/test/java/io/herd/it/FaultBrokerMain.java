package io.herd.it;

import io.herd.app.EmbeddedKafka;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * A Kafka broker as its own process, so a fault test can SIGKILL, SIGSTOP and restart it on the same port and data:
 * {@code FaultBrokerMain <data dir> <port>}. Prints {@link #READY} once clients can connect; SIGTERM closes it.
 */
public final class FaultBrokerMain {

    static final String READY = "fault-broker ready";

    private FaultBrokerMain() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) throw new IllegalArgumentException("usage: FaultBrokerMain <data dir> <port>");
        EmbeddedKafka broker = EmbeddedKafka.start(Path.of(args[0]), Integer.parseInt(args[1]));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "fault-broker-stop"));
        System.out.println(READY + " on " + broker.bootstrapServers());
        System.out.flush();
        stopped.await();
    }
}
