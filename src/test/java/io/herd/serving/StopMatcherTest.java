package io.herd.serving;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StopMatcherTest {

    @Test
    void holdsBackAPossibleStopPrefixAndCutsAtTheStop() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertThat(m.append("abc E")).isFalse();
        assertThat(m.take(false)).isEqualTo("abc ");
        assertThat(m.append("N")).isFalse();
        assertThat(m.take(false)).isEmpty();
        assertThat(m.append("Dxyz")).isTrue();
        assertThat(m.take(false)).isEmpty();
    }

    @Test
    void releasesAHeldPrefixThatDidNotBecomeAStop() {
        StopMatcher m = new StopMatcher(List.of("END"));
        m.append("xE");
        assertThat(m.take(false)).isEqualTo("x");
        m.append("Nx");
        assertThat(m.take(false)).isEqualTo("ENx");
        m.append("EN");
        assertThat(m.take(true)).as("at the end everything goes out").isEqualTo("EN");
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopMatcher m = new StopMatcher(List.of("cd", "b"));
        assertThat(m.append("abcd")).isTrue();
        assertThat(m.take(false)).isEqualTo("a");
    }

    @Test
    void noStopsMeansNothingIsHeldBack() {
        StopMatcher m = new StopMatcher(List.of());
        assertThat(m.append("hello")).isFalse();
        assertThat(m.take(false)).isEqualTo("hello");
    }
}
