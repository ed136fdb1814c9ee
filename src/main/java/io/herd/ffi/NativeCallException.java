package io.herd.ffi;

/**
 * A native library call returned an error status. The engine treats it as a broken invariant: nobody catches it to
 * carry on.
 *
 * @param function the C function that failed, e.g. {@code cublasGemmEx}
 * @param code     the raw status code it returned
 * @param name     the status name from the library's headers, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}
 */
public final class NativeCallException extends RuntimeException {
    private final String function;
    private final int code;
    private final String name;

    public NativeCallException(String function, int code, String name) {
        super(function + " failed: " + name + " (" + code + ")");
        this.function = function;
        this.code = code;
        this.name = name;
    }

    public String function() { return function; }

    public int code() { return code; }

    public String name() { return name; }
}
