package io.herd.engine;

/** Life cycle of a {@link Request} on the engine thread (vLLM's names). */
public enum RequestStatus {
    WAITING, RUNNING, PREEMPTED,
    FINISHED_STOPPED, FINISHED_LENGTH, FINISHED_ABORTED, FINISHED_ERROR;

    public boolean isFinished() { return ordinal() >= FINISHED_STOPPED.ordinal(); }
}
