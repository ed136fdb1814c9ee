package io.herd.cli;

/** Small helpers the commands share for reading their options. */
final class CliArgs {
    private CliArgs() {}

    /** The value after an option, or a usage error naming the option. */
    static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[i];
    }

    /** An environment variable, or fallback when it is unset or empty. */
    static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }
}
