package io.herd.weights.gguf;

import java.util.List;

/**
 * A metadata array. Integer elements (any width, signedness applied) are held as a {@code long[]}, floats as a
 * {@code double[]}, booleans as a {@code boolean[]}, strings as a {@code List<String>}; nested arrays as a
 * {@code List<GgufArray>}.
 */
public record GgufArray(GgufValueType elementType, Object values) {
    public int size() {
        return switch (values) {
            case long[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case List<?> l -> l.size();
            default -> throw new IllegalStateException("unexpected array storage " + values.getClass());
        };
    }
}
