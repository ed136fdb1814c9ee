package io.herd.runner;

import io.herd.engine.ModelExecutor;
import io.herd.engine.PromptEmbeddings;
import io.herd.engine.RunnerOutput;
import io.herd.engine.SchedulerOutput;
import io.herd.engine.kv.IntArrayList;
import io.herd.engine.kv.KvCacheLayout;
import io.herd.model.ForwardPass;
import io.herd.model.sampling.PromptTokenLogprob;
import io.herd.model.sampling.Sampler;
import io.herd.model.sampling.SamplingParams;
import io.herd.structured.ConstraintCursor;
import io.herd.structured.OutputGrammar;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns each {@link SchedulerOutput} into {@link ForwardPass.SequenceChunk}s, runs the forward pass and samples.
 * Keeps a persistent batch (tokens, block tables, a {@link Sampler} per request) that the scheduler's diffs update,
 * so a decode step ships only new block ids. A preempted request keeps its sampler (seeded RNG, penalty counts), so
 * its tokens do not depend on preemption; so does its {@link ConstraintCursor}, which has seen exactly the tokens the
 * runner sampled (prefix-cache hits and re-prefill only concern the prompt and KV, never the cursor). The KV memory
 * itself lives in the {@link ForwardPass}. Engine thread only.
 */
public final class ModelRunner implements ModelExecutor {

    private static final class SequenceState {
        final IntArrayList tokens;
        final IntArrayList global = new IntArrayList(16);
        final IntArrayList chunked = new IntArrayList(16);
        final Sampler sampler;
        /** Image rows for prompt positions (null: none); each chunk takes the rows of its own positions. */
        final ForwardPass.InputEmbeddings promptEmbeddings;
        /** Position in the output constraint; null for free text. */
        final ConstraintCursor constraint;
        final int promptLength;
        /** -1, or the top-k of the prompt logprobs asked for. */
        final int promptLogprobs;
        /** Next prompt position whose logprob is still to report (1 …): a recompute after preemption reports none twice. */
        int nextPromptLogprob = 1;

        SequenceState(int[] tokens, Sampler sampler, PromptEmbeddings promptEmbeddings, int dModel, OutputGrammar constraint,
                      int promptLogprobs) {
            this.tokens = IntArrayList.of(tokens);
            this.promptLength = tokens.length;
            this.promptLogprobs = promptLogprobs;
            this.sampler = sampler;
            this.constraint = constraint == null ? null : new ConstraintCursor(constraint);
            this.promptEmbeddings = promptEmbeddings == null ? null : promptEmbeddings.compute();
            if (this.promptEmbeddings != null) {
                int[] idx = this.promptEmbeddings.indices();
                if ((idx.length > 0 && idx[idx.length - 1] >= tokens.length) || this.promptEmbeddings.rows().length != idx.length * dModel)
                    throw new IllegalArgumentException("prompt embedding rows do not fit the prompt of " + tokens.length + " tokens");
            }
        }
    }

    private final ForwardPass forwardPass;
    private final KvCacheLayout layout;
    private final int vocabSize;
    private final Map<String, SequenceState> batch = new HashMap<>();

    public ModelRunner(ForwardPass forwardPass) {
        this.forwardPass = forwardPass;
        ForwardPass.KvCacheSpec spec = forwardPass.kvSpec();
        this.layout = new KvCacheLayout(spec.blockSize(), spec.nGlobalBlocks(), spec.nChunkedBlocks(),
                KvCacheSizing.attentionChunk(forwardPass.config()), spec.bytesPerGlobalBlock(), spec.bytesPerChunkedBlock());
        this.vocabSize = forwardPass.config().vocabSize();
    }

    @Override
    public KvCacheLayout kvLayout() { return layout; }

    @Override
    public int maxPositions() { return forwardPass.config().maxPositionEmbeddings(); }

    @Override
    public Optional<String> unsupported(SamplingParams sampling) {
        try {
            new Sampler(sampling, vocabSize, new int[0]); // the sampler's own range checks are the definition
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Requests whose state the runner holds (for tests: finished ones must disappear). */
    public int batchSize() { return batch.size(); }

    @Override
    public RunnerOutput execute(SchedulerOutput out) {
        for (String id : out.finishedRequestIds()) batch.remove(id);
        List<String> ids = new ArrayList<>();
        List<ForwardPass.SequenceChunk> chunks = new ArrayList<>();
        for (SchedulerOutput.NewRequest n : out.scheduledNewRequests()) {
            SequenceState s = new SequenceState(n.tokenIds(), new Sampler(n.sampling(), vocabSize, n.tokenIds()),
                    n.promptEmbeddings(), forwardPass.config().dModel(), n.constraint(), n.promptLogprobs());
            s.global.addAll(n.globalBlockIds(), 0, n.globalBlockIds().length);
            s.chunked.addAll(n.chunkedBlockIds(), 0, n.chunkedBlockIds().length);
            if (batch.putIfAbsent(n.requestId(), s) != null) {
                throw new IllegalStateException("new request " + n.requestId() + " already in the batch");
            }
            ids.add(n.requestId());
            chunks.add(chunk(s, n.numComputedTokens(), n.numScheduledTokens()));
        }
        for (SchedulerOutput.CachedRequest c : out.scheduledCachedRequests()) {
            SequenceState s = batch.get(c.requestId());
            if (s == null) throw new IllegalStateException("cached request " + c.requestId() + " not in the batch");
            if (c.resumedFromPreemption()) {
                s.global.clear();
                s.chunked.clear();
            }
            s.global.addAll(c.newGlobalBlockIds(), 0, c.newGlobalBlockIds().length);
            s.chunked.addAll(c.newChunkedBlockIds(), 0, c.newChunkedBlockIds().length);
            for (int i = 0; i < Math.min(c.nReleasedChunkedBlocks(), s.chunked.size()); i++) s.chunked.set(i, -1);
            ids.add(c.requestId());
            chunks.add(chunk(s, c.numComputedTokens(), c.numScheduledTokens()));
        }
        if (chunks.isEmpty()) return new RunnerOutput(Map.of());

        List<float[]> logits = forwardPass.forward(chunks);
        if (logits.size() != chunks.size()) {
            throw new IllegalStateException("forward returned " + logits.size() + " results for " + chunks.size() + " chunks");
        }
        Map<String, RunnerOutput.SampledToken> sampled = new HashMap<>();
        Map<String, List<PromptTokenLogprob>> promptLogprobs = new HashMap<>();
        for (int i = 0; i < chunks.size(); i++) {
            if (chunks.get(i).nLogits() == 0) continue;
            float[] l = logits.get(i);
            ForwardPass.SequenceChunk c = chunks.get(i);
            SequenceState ps = batch.get(ids.get(i));
            if (ps.promptLogprobs >= 0 && c.startPos() < ps.promptLength) {
                promptLogprobs.put(ids.get(i), promptLogprobs(ps, c, l));
                if (c.startPos() + c.tokens().length < ps.tokens.size()) continue; // mid-prompt: nothing to sample
                l = java.util.Arrays.copyOfRange(l, l.length - vocabSize, l.length);
            }
            if (l.length != vocabSize) {
                throw new IllegalStateException("logits of " + ids.get(i) + " have " + l.length + " values, vocab " + vocabSize);
            }
            SequenceState s = batch.get(ids.get(i));
            Sampler.Sample t;
            if (s.constraint == null) {
                t = s.sampler.sample(l, 0);
            } else {
                int remaining = s.sampler.params().maxTokens() - s.sampler.nGenerated();
                t = s.sampler.sample(l, 0, s.constraint.allowedTokens(remaining));
                s.constraint.accept(t.tokenId());
            }
            s.tokens.add(t.tokenId());
            sampled.put(ids.get(i), new RunnerOutput.SampledToken(t.tokenId(), t.logprobs()));
        }
        return new RunnerOutput(sampled, promptLogprobs);
    }

    /**
     * The logprobs of the prompt tokens this chunk's logits predict: row j (position start + j) scores the token at
     * start + j + 1, for positions not reported before.
     */
    private List<PromptTokenLogprob> promptLogprobs(SequenceState s, ForwardPass.SequenceChunk c, float[] logits) {
        int rows = c.nLogits();
        int firstRowPos = c.startPos() + c.tokens().length - rows;
        List<PromptTokenLogprob> out = new ArrayList<>();
        for (int j = 0; j < rows; j++) {
            int predicted = firstRowPos + j + 1;
            if (predicted != s.nextPromptLogprob || predicted >= s.promptLength) continue;
            out.add(PromptTokenLogprob.of(logits, j * vocabSize, vocabSize, s.tokens.get(predicted), s.promptLogprobs));
            s.nextPromptLogprob++;
        }
        return out;
    }

    /** Positions {@code [start, start + n)}; logits only when the chunk reaches the last known token. */
    private ForwardPass.SequenceChunk chunk(SequenceState s, int start, int n) {
        if (start + n > s.tokens.size()) {
            throw new IllegalStateException("scheduled " + n + " tokens from " + start + " but sequence has " + s.tokens.size());
        }
        int nLogits = start + n == s.tokens.size() ? 1 : 0;
        // Prompt logprobs: every position of a prompt chunk not yet reported gets its row of logits.
        if (s.promptLogprobs >= 0 && start < s.promptLength && s.nextPromptLogprob < s.promptLength
                && start + n > s.nextPromptLogprob - 1) {
            nLogits = n;
        }
        ForwardPass.InputEmbeddings rows = s.promptEmbeddings == null ? null
                : s.promptEmbeddings.slice(start, start + n, forwardPass.config().dModel());
        return new ForwardPass.SequenceChunk(s.tokens.toArray(start, start + n), start,
                new ForwardPass.BlockTable(s.global.toArray(), s.chunked.toArray()), nLogits, rows);
    }
}
