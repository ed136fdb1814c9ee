package io.herd.serving;

/** One chat turn (OpenAI shape): role is system, user, assistant or tool. */
public record ChatMessage(String role, String content) {}
