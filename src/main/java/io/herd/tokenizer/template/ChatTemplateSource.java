package io.herd.tokenizer.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which chat template a model is served with (HERD_CHAT_TEMPLATE): {@code release} or {@code pythonic} (Herd's
 * renderings of the two official layouts), a path to a Jinja file, or, when unset, the checkpoint's own
 * {@code chat_template.jinja} or the {@code chat_template} of its {@code tokenizer_config.json}; null when there is
 * none, and the built-in layout serves.
 */
public final class ChatTemplateSource {
    /** A template file larger than this is refused: it is code run on every request. */
    static final long MAX_TEMPLATE_BYTES = 1 << 20;

    private ChatTemplateSource() {}

    /**
     * @param setting        HERD_CHAT_TEMPLATE, or null / blank for the checkpoint's own
     * @param modelDir       the checkpoint folder (or a GGUF file, which has no separate template file)
     * @param maxOutputChars bound on one rendered prompt
     * @throws ChatTemplateException when the chosen template cannot be read or does not render
     */
    public static ChatTemplateRenderer resolve(String setting, Path modelDir, long maxOutputChars) {
        if (setting != null && !setting.isBlank()) {
            String s = setting.strip();
            if (s.equals(ChatTemplates.RELEASE) || s.equals(ChatTemplates.PYTHONIC)) {
                return new ChatTemplateRenderer(ChatTemplates.builtIn(s), s, maxOutputChars);
            }
            Path file = Path.of(s);
            if (!Files.isRegularFile(file)) {
                throw new ChatTemplateException("HERD_CHAT_TEMPLATE is '" + s + "': neither release, pythonic nor a readable file");
            }
            return new ChatTemplateRenderer(read(file), file.toString(), maxOutputChars);
        }
        if (modelDir == null || !Files.isDirectory(modelDir)) return null;
        Path jinja = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) return new ChatTemplateRenderer(read(jinja), jinja.toString(), maxOutputChars);
        Path config = modelDir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(config)) return null;
        JsonNode template;
        try {
            template = new ObjectMapper().readTree(config.toFile()).get("chat_template");
        } catch (IOException e) {
            throw new ChatTemplateException("cannot read " + config + ": " + e.getMessage(), e);
        }
        if (template == null || template.isNull()) return null;
        if (template.isTextual()) return new ChatTemplateRenderer(template.asText(), config + " chat_template", maxOutputChars);
        if (template.isArray()) { // named templates: the one called "default"
            for (JsonNode t : template) {
                if ("default".equals(t.path("name").asText()) && t.path("template").isTextual()) {
                    return new ChatTemplateRenderer(t.get("template").asText(), config + " chat_template default", maxOutputChars);
                }
            }
        }
        throw new ChatTemplateException(config + ": chat_template is neither a string nor a list with a 'default' entry");
    }

    private static String read(Path file) {
        try {
            if (Files.size(file) > MAX_TEMPLATE_BYTES) throw new ChatTemplateException(file + " is larger than " + MAX_TEMPLATE_BYTES + " bytes");
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
