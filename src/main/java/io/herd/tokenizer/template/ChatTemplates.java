package io.herd.tokenizer.template;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Herd's own renderings of the two official Llama 4 chat template formats, shipped as resources. */
public final class ChatTemplates {
    /** JSON tool calls, tools in the first user message: the April 2025 release layout. */
    public static final String RELEASE = "release";
    /** Pythonic tool calls, tools in the system message: the layout of the later published template. */
    public static final String PYTHONIC = "pythonic";

    private ChatTemplates() {}

    /** The template text of {@link #RELEASE} or {@link #PYTHONIC}. */
    public static String builtIn(String name) {
        String resource = switch (name) {
            case RELEASE -> "llama4-release.jinja";
            case PYTHONIC -> "llama4-pythonic.jinja";
            default -> throw new IllegalArgumentException("no built-in chat template '" + name + "' (release or pythonic)");
        };
        try (InputStream in = ChatTemplates.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource " + resource);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
