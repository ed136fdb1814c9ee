package io.herd.engine;

import io.herd.engine.kv.KvCacheLayout;
import io.herd.model.sampling.SamplingParams;

import java.util.Optional;

/** Runs a {@link SchedulerOutput} on the model and samples: the runner side of the step loop. */
public interface ModelExecutor {

    /** The KV block geometry the executor's memory was sized for. */
    KvCacheLayout kvLayout();

    /** Longest sequence the model itself supports (position limit). */
    int maxPositions();

    /** Why these sampling parameters cannot be honoured, or empty when they can. */
    Optional<String> unsupported(SamplingParams sampling);

    RunnerOutput execute(SchedulerOutput output);
}
