package io.herd.tokenizer;

/** Chat roles and the header text each is written with (SPEC §11.1: the tool role is written as "ipython"). */
public enum Role {
    SYSTEM("system"), USER("user"), ASSISTANT("assistant"), TOOL("ipython");

    private final String header;

    Role(String header) { this.header = header; }

    /** The role name as it appears between {@code <|header_start|>} and {@code <|header_end|>}. */
    public String header() { return header; }

    /** Parses a role as clients write it: system, user, assistant, tool or ipython (case-insensitive). */
    public static Role parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "system" -> SYSTEM;
            case "user" -> USER;
            case "assistant" -> ASSISTANT;
            case "tool", "ipython" -> TOOL;
            default -> throw new IllegalArgumentException(
                    "unknown chat role '" + name + "' (expected system, user, assistant, tool or ipython)");
        };
    }
}
