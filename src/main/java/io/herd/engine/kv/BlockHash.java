package io.herd.engine.kv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Identity of a full block's KV content: a 128-bit SHA-256 prefix over the parent block's hash and this block's token
 * ids. The chain starts at {@link #root}, which mixes in the model id and the tenant's cache salt, so two tenants
 * with different salts never share a block and a cache is never reused across models. K/V at a position depends on
 * every earlier token, hence the chain rather than a hash of the block's own tokens.
 */
public record BlockHash(long hi, long lo) {

    /** The parent of block 0: model id and cache salt (null salt = shared namespace, distinct from ""). */
    public static BlockHash root(String modelId, String cacheSalt) {
        MessageDigest sha = sha256();
        sha.update("herd-kv-root\0".getBytes(StandardCharsets.UTF_8));
        sha.update(modelId.getBytes(StandardCharsets.UTF_8));
        if (cacheSalt == null) {
            sha.update((byte) 0);
        } else {
            sha.update((byte) 1);
            sha.update(cacheSalt.getBytes(StandardCharsets.UTF_8));
        }
        return of(sha.digest());
    }

    /** Hash of the block holding {@code tokens[from, to)}, chained on {@code parent}. */
    public static BlockHash chain(BlockHash parent, int[] tokens, int from, int to) {
        ByteBuffer buf = ByteBuffer.allocate(16 + 4 * (to - from));
        buf.putLong(parent.hi).putLong(parent.lo);
        for (int i = from; i < to; i++) buf.putInt(tokens[i]);
        MessageDigest sha = sha256();
        sha.update(buf.array());
        return of(sha.digest());
    }

    /** Same as {@link #chain(BlockHash, int[], int, int)} over a growing token list, without copying it. */
    public static BlockHash chain(BlockHash parent, IntArrayList tokens, int from, int to) {
        if (to > tokens.size()) throw new IndexOutOfBoundsException(to + " of " + tokens.size());
        return chain(parent, tokens.raw(), from, to);
    }

    /**
     * As {@link #chain(BlockHash, IntArrayList, int, int)}, also taking the start and content hash of every span that
     * overlaps the block; a block no span touches hashes exactly as without spans.
     */
    public static BlockHash chain(BlockHash parent, IntArrayList tokens, int from, int to, java.util.List<MultimodalSpan> spans) {
        BlockHash h = chain(parent, tokens, from, to);
        ByteBuffer extra = null;
        for (MultimodalSpan s : spans) {
            if (!s.overlaps(from, to)) continue;
            if (extra == null) extra = ByteBuffer.allocate(16 + spans.size() * 20).putLong(h.hi).putLong(h.lo);
            extra.putInt(s.start()).putLong(s.contentHash().hi).putLong(s.contentHash().lo);
        }
        if (extra == null) return h;
        MessageDigest sha = sha256();
        sha.update("herd-kv-multimodal\0".getBytes(StandardCharsets.UTF_8));
        sha.update(extra.array(), 0, extra.position());
        return of(sha.digest());
    }

    /** A 128-bit content hash of arbitrary bytes (image pixels for {@link MultimodalSpan}). */
    public static BlockHash ofContent(byte[] content) {
        MessageDigest sha = sha256();
        sha.update(content);
        return of(sha.digest());
    }

    private static BlockHash of(byte[] digest) {
        ByteBuffer b = ByteBuffer.wrap(digest);
        return new BlockHash(b.getLong(), b.getLong());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
