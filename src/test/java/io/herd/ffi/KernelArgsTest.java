package io.herd.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

class KernelArgsTest {
    @Test
    void packsOnePointerPerParameterPointingAtANaturallyAlignedValue() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena).ptr(0x7f00_1234_5000L).i32(-7).f32(1.5f).i64(1L << 40).ptr(0);
            assertThat(args.count()).isEqualTo(5);
            MemorySegment params = args.pointers();
            assertThat(params.byteSize()).isEqualTo(5 * ADDRESS.byteSize());
            MemorySegment p0 = params.getAtIndex(ADDRESS, 0).reinterpret(8);
            MemorySegment p1 = params.getAtIndex(ADDRESS, 1).reinterpret(4);
            MemorySegment p2 = params.getAtIndex(ADDRESS, 2).reinterpret(4);
            MemorySegment p3 = params.getAtIndex(ADDRESS, 3).reinterpret(8);
            MemorySegment p4 = params.getAtIndex(ADDRESS, 4).reinterpret(8);
            assertThat(p0.get(ADDRESS, 0).address()).isEqualTo(0x7f00_1234_5000L);
            assertThat(p1.get(JAVA_INT, 0)).isEqualTo(-7);
            assertThat(p2.get(JAVA_FLOAT, 0)).isEqualTo(1.5f);
            assertThat(p3.get(JAVA_LONG, 0)).isEqualTo(1L << 40);
            assertThat(p4.get(ADDRESS, 0).address()).isZero();
            assertThat(p0.address() % 8).isZero();
            assertThat(p1.address() % 4).isZero();
            assertThat(p3.address() % 8).isZero();
        }
    }
}
