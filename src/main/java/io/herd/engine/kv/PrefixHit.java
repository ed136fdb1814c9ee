package io.herd.engine.kv;

/**
 * A reusable cached prefix: its first {@code nTokens} positions (a whole number of blocks) need no compute.
 *
 * @param globalBlockIds  GLOBAL blocks for logical blocks {@code 0 … nTokens/B - 1}
 * @param chunkedBlockIds CHUNKED table for the same logical blocks: -1 before the attention chunk of position
 *                        {@code nTokens} (never read again), cached block ids from that chunk's start on
 */
public record PrefixHit(int nTokens, int[] globalBlockIds, int[] chunkedBlockIds) {
    public static final PrefixHit NONE = new PrefixHit(0, new int[0], new int[0]);
}
