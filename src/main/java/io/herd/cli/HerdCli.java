package io.herd.cli;

import java.util.Arrays;

/** Entry point of the {@code ./herd} commands that run outside the service (one case per command). */
public final class HerdCli {

    private HerdCli() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: HerdCli COMMAND [options] (see ./herd help)");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int status = switch (args[0]) {
            case "send" -> SendCommand.run(rest);
            default -> {
                System.err.println("herd: unknown command '" + args[0] + "'");
                yield 2;
            }
        };
        System.exit(status);
    }
}
