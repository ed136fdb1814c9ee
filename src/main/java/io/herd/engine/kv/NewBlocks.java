package io.herd.engine.kv;

/** Block ids appended to a sequence's tables by one allocation (the diff the runner applies). */
public record NewBlocks(int[] global, int[] chunked) {}
