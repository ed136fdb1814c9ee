package io.herd.cli;

import java.util.Arrays;

/** Entry point of the plain-Java commands that {@code ./herd} runs (everything except {@code serve}). */
public final class HerdCli {
    private HerdCli() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: herd COMMAND [options]; commands: bench");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int status;
        try {
            status = switch (args[0]) {
                case "bench" -> BenchCommand.run(rest);
                default -> {
                    System.err.println("herd: unknown command '" + args[0] + "'");
                    yield 2;
                }
            };
        } catch (IllegalArgumentException e) {
            System.err.println("herd " + args[0] + ": " + e.getMessage());
            status = 2;
        }
        System.exit(status);
    }
}
