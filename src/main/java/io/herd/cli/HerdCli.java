package io.herd.cli;

import io.herd.model.DemoModel;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

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
        try {
            return switch (command) {
                case "generate" -> new GenerateCommand(out, err).run(rest);
                case "tokenize" -> new TokenizeCommand(out, err).run(rest);
                case "send" -> SendCommand.run(rest);
                // `bench --serving` runs the serving-core scenarios, `bench --kafka` loads a running service through
                // Kafka (or its in-process twin); plain `bench` the engine figures.
                case "bench" -> List.of(rest).contains("--serving") ? ServingBenchCommand.run(rest)
                        : List.of(rest).contains("--structured") ? StructuredBench.run(rest)
                        : List.of(rest).contains("--kafka") ? KafkaBenchCommand.run(rest) : BenchCommand.run(rest);
                case "make-demo-model" -> makeDemoModel(rest, out);
                case "help", "-h", "--help" -> {
                    out.println("usage: herd COMMAND [options]; commands: generate, tokenize, bench, make-demo-model"
                            + " (see herd COMMAND --help)");
                    yield 0;
                }
                default -> {
                    err.println("herd: unknown command '" + command + "'");
                    yield 2;
                }
            };
        } catch (IllegalArgumentException e) {
            err.println("herd " + command + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("herd " + command + ": " + e);
            return 1;
        }
    }

    private static int makeDemoModel(String[] args, PrintStream out) {
        Path dir = Path.of(args.length > 0 ? args[0] : "data/demo-model");
        DemoModel.write(dir);
        out.println("demo model written to " + dir.toAbsolutePath());
        return 0;
    }
}
