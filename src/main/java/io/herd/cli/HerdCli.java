package io.herd.cli;

import io.herd.model.DemoModel;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Entry point of the plain-Java commands that {@code ./herd} runs (everything except {@code serve}). */
public final class HerdCli {
    private HerdCli() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: herd COMMAND [options]; commands: bench, make-demo-model");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int status;
        try {
            status = switch (args[0]) {
                // `bench --serving` runs the serving-core scenarios; plain `bench` the engine figures.
                case "bench" -> List.of(rest).contains("--serving") ? ServingBenchCommand.run(rest) : BenchCommand.run(rest);
                case "make-demo-model" -> makeDemoModel(rest);
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

    private static int makeDemoModel(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "data/demo-model");
        DemoModel.write(dir);
        System.out.println("demo model written to " + dir.toAbsolutePath());
        return 0;
    }
}
