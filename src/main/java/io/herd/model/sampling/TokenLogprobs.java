package io.herd.model.sampling;

/** Log-probability of a sampled token (from the unmodified model distribution) and the top alternatives. */
public record TokenLogprobs(float logprob, int[] topIds, float[] topLogprobs) {}
