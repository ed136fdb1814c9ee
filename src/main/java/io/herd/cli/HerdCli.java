package io.herd.cli;

import java.io.PrintStream;
import java.util.Arrays;

/** Entry point of the plain-Java commands that {@code ./herd} runs (everything except {@code serve}): one case each. */
public final class HerdCli {
    private HerdCli() {}

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        System.out.flush();
        // Exit explicitly: shared compute pools keep non-daemon threads alive.
        System.exit(status);
    }

    /** Runs one command; returns the process exit status (0 ok, 1 failure, 2 bad usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String command = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        return switch (command) {
            case "generate" -> new GenerateCommand(out, err).run(rest);
            case "tokenize" -> new TokenizeCommand(out, err).run(rest);
            case "bench" -> {
                try {
                    yield BenchCommand.run(rest);
                } catch (IllegalArgumentException e) {
                    err.println("herd bench: " + e.getMessage());
                    yield 2;
                }
            }
            case "help", "-h", "--help" -> {
                out.println("usage: herd COMMAND [options]; commands: generate, tokenize, bench"
                        + " (see herd COMMAND --help)");
                yield 0;
            }
            default -> {
                err.println("herd: unknown command '" + command + "'");
                yield 2;
            }
        };
    }
}
