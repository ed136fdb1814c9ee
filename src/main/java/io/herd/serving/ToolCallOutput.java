package io.herd.serving;

/**
 * One tool call as OpenAI returns it: {@code {"id", "type": "function", "function": {"name", "arguments"}}}, with the
 * arguments object as JSON text.
 */
public record ToolCallOutput(String id, String name, String arguments) {}
