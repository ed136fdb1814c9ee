package io.herd.serving;

import io.herd.engine.EngineRequest;

import java.util.List;

/** A validated, tokenized request ready for the engine, with the stop strings the serving layer enforces. */
public record PreparedRequest(CompletionRequest request, EngineRequest engineRequest, List<String> stop,
                              PromptCodec codec) {

    public String id() { return request.id(); }

    PromptCodec.IncrementalDecoder decoder() { return codec.newDecoder(); }
}
