package io.herd.serving;

/**
 * A call an assistant message of the history made ({@code tool_calls[i]}): its id, the function's name and its
 * arguments as the client sent them, JSON text of an object (OpenAI's shape).
 */
public record RequestToolCall(String id, String name, String arguments) {}
