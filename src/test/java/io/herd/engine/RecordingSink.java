package io.herd.engine;

import io.herd.model.sampling.TokenLogprobs;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** Records one request's events and checks their order (started once, tokens, one terminal event). */
public final class RecordingSink implements RequestSink {
    public volatile int promptTokens = -1;
    public volatile int cachedTokens = -1;
    public final List<Integer> tokens = new ArrayList<>();
    public volatile FinishReason finishReason;
    public volatile String errorCode;
    public volatile String errorMessage;
    public final CountDownLatch done = new CountDownLatch(1);
    public volatile Thread eventThread;
    public volatile int startedCalls;

    @Override
    public synchronized void onStarted(int promptTokens, int cachedTokens) {
        checkOpen("onStarted");
        if (startedCalls++ > 0) throw new AssertionError("onStarted twice");
        this.promptTokens = promptTokens;
        this.cachedTokens = cachedTokens;
        eventThread = Thread.currentThread();
    }

    /** Prompt logprobs as reported, in order; the engine sends them before the first token. */
    public final List<io.herd.model.sampling.PromptTokenLogprob> promptLogprobs = new ArrayList<>();

    @Override
    public synchronized void onPromptLogprobs(List<io.herd.model.sampling.PromptTokenLogprob> logprobs) {
        checkOpen("onPromptLogprobs");
        if (startedCalls == 0) throw new AssertionError("prompt logprobs before onStarted");
        if (!tokens.isEmpty()) throw new AssertionError("prompt logprobs after a token");
        promptLogprobs.addAll(logprobs);
    }

    @Override
    public synchronized void onToken(int tokenId, TokenLogprobs logprobs) {
        checkOpen("onToken");
        if (startedCalls == 0) throw new AssertionError("token before onStarted");
        tokens.add(tokenId);
    }

    @Override
    public synchronized void onFinished(FinishReason reason) {
        checkOpen("onFinished");
        finishReason = reason;
        done.countDown();
    }

    @Override
    public synchronized void onError(String code, String message) {
        checkOpen("onError");
        errorCode = code;
        errorMessage = message;
        done.countDown();
    }

    public synchronized int[] tokenArray() { return tokens.stream().mapToInt(Integer::intValue).toArray(); }

    public boolean isDone() { return done.getCount() == 0; }

    private void checkOpen(String event) {
        if (done.getCount() == 0) throw new AssertionError(event + " after the terminal event");
    }
}
