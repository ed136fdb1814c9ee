package io.herd.cli;

import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Entry point of the {@code ./herd} commands that run outside the service (one case per command). */
public final class HerdCli {

    /** Held so the level settings are not garbage-collected with their loggers. */
    private static final Logger KAFKA_LOGS;

    static {
        // The packaged app's logging backend expects to be the JDK log manager; set it before anything logs.
        if (System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        }
        KAFKA_LOGS = Logger.getLogger("org.apache.kafka");
        KAFKA_LOGS.setLevel(Level.WARNING);
    }

    private HerdCli() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: HerdCli COMMAND [options] (see ./herd help)");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int status = switch (args[0]) {
            case "bench" -> ServingBenchCommand.run(rest);
            case "send" -> SendCommand.run(rest);
            default -> {
                System.err.println("herd: unknown command '" + args[0] + "'");
                yield 2;
            }
        };
        System.exit(status);
    }
}
