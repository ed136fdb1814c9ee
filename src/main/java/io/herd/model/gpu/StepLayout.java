package io.herd.model.gpu;

import io.herd.model.ForwardPass.SequenceChunk;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The host-side description of one forward step, uploaded to the device as one int array ({@link #meta}) of
 * fixed layout, so that buffer addresses (and with them a captured CUDA graph) stay the same from step to step.
 * With T = maxBatchTokens, S = maxSeqs, B = maxBlocksPerSeq, the int offsets are:
 * <pre>
 *   [0, T)        token ids            [T, 2T)   absolute positions     [2T, 3T)  chunk index of each token
 *   [3T, 4T)      token index of each logits row
 *   [4T, 5T)      first token of each prefill tile (≤ 16 consecutive tokens of one chunk)   [5T, 6T) tile lengths
 *   [6T, 6T+SB)   GLOBAL block tables [S, B]      [6T+SB, 6T+2SB)  CHUNKED block tables [S, B]   (-1 = none)
 * </pre>
 */
final class StepLayout {
    /** Tokens per prefill-attention tile (the kernel's tile height). */
    static final int TILE = 16;

    final int nTok, nSeq, nRows, nTiles;
    /** Every chunk has one token and wants its logits: the shape that is captured as a CUDA graph. */
    final boolean pureDecode;
    final int[] meta;
    /** For logits row r: its chunk and its index among that chunk's logits rows. */
    final int[] rowChunk, rowIndexInChunk;
    /** Set once the first maxLogitRows rows of logits have been computed on the device. */
    boolean logitsDone;

    private StepLayout(int nTok, int nSeq, int nRows, int nTiles, boolean pureDecode, int[] meta, int[] rowChunk,
                       int[] rowIndexInChunk) {
        this.nTok = nTok;
        this.nSeq = nSeq;
        this.nRows = nRows;
        this.nTiles = nTiles;
        this.pureDecode = pureDecode;
        this.meta = meta;
        this.rowChunk = rowChunk;
        this.rowIndexInChunk = rowIndexInChunk;
    }

    static int metaInts(CudaForwardPass.Options o) {
        return 6 * o.maxBatchTokens() + 2 * o.maxSeqs() * o.maxBlocksPerSeq();
    }

    static int globalTablesOffset(CudaForwardPass.Options o) {
        return 6 * o.maxBatchTokens();
    }

    static int chunkedTablesOffset(CudaForwardPass.Options o) {
        return globalTablesOffset(o) + o.maxSeqs() * o.maxBlocksPerSeq();
    }

    /** Validates the chunks against the capacities and lays them out; bad input names the chunk and the value. */
    static StepLayout of(List<SequenceChunk> chunks, int vocab, int attentionChunkSize, CudaForwardPass.Options o,
                         int nGlobalBlocks, int nChunkedBlocks) {
        int nTok = 0, nRows = 0;
        for (SequenceChunk c : chunks) {
            nTok += c.tokens().length;
            nRows += c.nLogits();
        }
        if (nTok > o.maxBatchTokens()) {
            throw new IllegalArgumentException(nTok + " tokens exceed maxBatchTokens " + o.maxBatchTokens());
        }
        if (chunks.size() > o.maxSeqs()) {
            throw new IllegalArgumentException(chunks.size() + " chunks exceed maxSeqs " + o.maxSeqs());
        }
        int mt = o.maxBatchTokens(), mb = o.maxBlocksPerSeq();
        int[] meta = new int[metaInts(o)];
        Arrays.fill(meta, globalTablesOffset(o), meta.length, -1);
        int[] rowChunk = new int[nRows], rowIndex = new int[nRows];
        int t = 0, row = 0, tiles = 0;
        boolean allSingle = true;
        for (int c = 0; c < chunks.size(); c++) {
            SequenceChunk ch = chunks.get(c);
            int n = ch.tokens().length;
            if (n != 1) allSingle = false;
            if (ch.startPos() < 0) throw new IllegalArgumentException("chunk " + c + ": negative startPos " + ch.startPos());
            int lastPos = ch.startPos() + n - 1;
            int needBlocks = lastPos / o.blockSize() + 1;
            if (ch.blocks().global().length > mb || ch.blocks().chunked().length > mb) {
                throw new IllegalArgumentException("block table of chunk " + c + " longer than maxBlocksPerSeq " + mb);
            }
            checkTable(ch.blocks().global(), 0, needBlocks, nGlobalBlocks, "global", c, lastPos);
            int chunkStart = ch.startPos() / attentionChunkSize * attentionChunkSize;
            checkTable(ch.blocks().chunked(), chunkStart / o.blockSize(), needBlocks, nChunkedBlocks, "chunked", c,
                    lastPos);
            System.arraycopy(ch.blocks().global(), 0, meta, globalTablesOffset(o) + c * mb, ch.blocks().global().length);
            System.arraycopy(ch.blocks().chunked(), 0, meta, chunkedTablesOffset(o) + c * mb,
                    ch.blocks().chunked().length);
            for (int i = 0; i < n; i++) {
                int tok = ch.tokens()[i];
                if (tok < 0 || tok >= vocab) {
                    throw new IllegalArgumentException("chunk " + c + ": token id " + tok + " outside vocabulary of "
                            + vocab);
                }
                meta[t + i] = tok;
                meta[mt + t + i] = ch.startPos() + i;
                meta[2 * mt + t + i] = c;
            }
            for (int i = n - ch.nLogits(); i < n; i++) {
                meta[3 * mt + row] = t + i;
                rowChunk[row] = c;
                rowIndex[row] = i - (n - ch.nLogits());
                row++;
            }
            for (int i0 = 0; i0 < n; i0 += TILE) {
                meta[4 * mt + tiles] = t + i0;
                meta[5 * mt + tiles] = Math.min(TILE, n - i0);
                tiles++;
            }
            t += n;
        }
        return new StepLayout(nTok, chunks.size(), nRows, tiles, allSingle && nRows == chunks.size(), meta, rowChunk,
                rowIndex);
    }

    /** Blocks [firstRequired, needBlocks) are read or written this step and must be valid ids. */
    private static void checkTable(int[] table, int firstRequired, int needBlocks, int nBlocks, String group, int c,
                                   int last) {
        if (table.length < needBlocks) {
            throw new IllegalArgumentException("chunk " + c + ": " + group + " block table has " + table.length
                    + " entries, positions up to " + last + " need " + needBlocks);
        }
        for (int b = firstRequired; b < needBlocks; b++) {
            int id = table[b];
            if (id < 0 || id >= nBlocks) {
                throw new IllegalArgumentException("chunk " + c + ": " + group + " block " + b + " maps to " + id
                        + ", outside 0.." + (nBlocks - 1));
            }
        }
    }

    /**
     * True when a chunk's positions span several attention chunks and its CHUNKED table maps two of the logical
     * blocks it writes to the same physical block (a recycled block). A step writes all its K/V before attending,
     * so such a chunk must run attention chunk by attention chunk.
     */
    static boolean reusesChunkedBlockWithinStep(List<SequenceChunk> chunks, int attentionChunkSize, int blockSize) {
        for (SequenceChunk c : chunks) {
            int first = c.startPos(), last = c.startPos() + c.tokens().length - 1;
            if (c.tokens().length == 0 || first / attentionChunkSize == last / attentionChunkSize) continue;
            int lo = first / attentionChunkSize * attentionChunkSize;
            Set<Integer> seen = new HashSet<>();
            for (int b = lo / blockSize; b <= last / blockSize && b < c.blocks().chunked().length; b++) {
                int id = c.blocks().chunked()[b];
                if (id >= 0 && !seen.add(id)) return true;
            }
        }
        return false;
    }

    /**
     * Cuts a chunk at attention-chunk boundaries; each piece keeps the block table and asks for the logits of
     * those of the chunk's last nLogits tokens it holds.
     */
    static List<SequenceChunk> splitAtAttentionChunks(SequenceChunk c, int attentionChunkSize) {
        List<SequenceChunk> pieces = new ArrayList<>();
        int n = c.tokens().length, firstLogit = n - c.nLogits();
        int i0 = 0;
        while (i0 < n) {
            int pos = c.startPos() + i0;
            int i1 = Math.min(n, i0 + (attentionChunkSize - pos % attentionChunkSize));
            int pieceLogits = Math.max(0, i1 - Math.max(i0, firstLogit));
            pieces.add(new SequenceChunk(Arrays.copyOfRange(c.tokens(), i0, i1), pos, c.blocks(), pieceLogits));
            i0 = i1;
        }
        return pieces;
    }
}
