package io.herd.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Packs kernel arguments the way cuLaunchKernel reads them: {@code kernelParams} is an array of pointers, entry i
 * pointing at the value of parameter i (a device pointer, an int, a float, a long long), each stored with its C
 * size and alignment. Values live in the given arena, which must stay open until the launch call returns (the driver
 * copies them at launch).
 */
public final class KernelArgs {
    private final Arena arena;
    private final List<MemorySegment> values = new ArrayList<>();

    public KernelArgs(Arena arena) {
        this.arena = arena;
    }

    /** A device (or null) pointer, passed as a 64-bit address. */
    public KernelArgs ptr(long address) {
        MemorySegment v = arena.allocate(ADDRESS);
        v.set(ADDRESS, 0, MemorySegment.ofAddress(address));
        values.add(v);
        return this;
    }

    public KernelArgs i32(int value) {
        MemorySegment v = arena.allocate(JAVA_INT);
        v.set(JAVA_INT, 0, value);
        values.add(v);
        return this;
    }

    public KernelArgs i64(long value) {
        MemorySegment v = arena.allocate(JAVA_LONG);
        v.set(JAVA_LONG, 0, value);
        values.add(v);
        return this;
    }

    public KernelArgs f32(float value) {
        MemorySegment v = arena.allocate(JAVA_FLOAT);
        v.set(JAVA_FLOAT, 0, value);
        values.add(v);
        return this;
    }

    public int count() {
        return values.size();
    }

    /** The void** array for cuLaunchKernel. */
    public MemorySegment pointers() {
        MemorySegment array = arena.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) array.setAtIndex(ADDRESS, i, values.get(i));
        return array;
    }
}
