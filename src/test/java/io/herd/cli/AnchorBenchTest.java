package io.herd.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AnchorBenchTest {
    @Test
    void parsesRoundsAndRejectsBadCounts() {
        var a = AnchorBench.AnchorOptions.parse(new String[]{"--shape", "scout", "--layers", "4", "--anchor", "llamacpp", "--rounds", "3"});
        assertThat(a.rounds()).isEqualTo(3);
        assertThat(a.bench().layers()).isEqualTo(4);
        assertThat(AnchorBench.AnchorOptions.parse(new String[]{"--shape", "scout", "--anchor", "llamacpp"}).rounds()).isEqualTo(1);
        assertThatThrownBy(() -> AnchorBench.AnchorOptions.parse(new String[]{"--shape", "scout", "--anchor", "llamacpp", "--rounds", "0"}))
                .hasMessageContaining("--rounds must be positive");
        assertThatThrownBy(() -> AnchorBench.AnchorOptions.parse(new String[]{"--shape", "scout", "--anchor", "llamacpp", "--rounds", "two"}))
                .hasMessageContaining("--rounds needs a number");
        assertThatThrownBy(() -> AnchorBench.AnchorOptions.parse(new String[]{"--shape", "scout", "--anchor", "ollama"}))
                .hasMessageContaining("supports llamacpp");
    }

    @Test
    void comparesEachEnginesBestRoundPerRate() {
        List<Map<String, Object>> rounds = List.of(
                Map.of("decodeTokensPerSecond", 4.0, "prefillTokensPerSecond", 50.0),
                Map.of("decodeTokensPerSecond", 5.5, "prefillTokensPerSecond", 40.0),
                Map.of("decodeTokensPerSecond", 5.0, "prefillTokensPerSecond", 45.0));
        assertThat(AnchorBench.best(rounds, "decodeTokensPerSecond")).isSameAs(rounds.get(1));
        assertThat(AnchorBench.bestRate(rounds, "prefillTokensPerSecond")).isEqualTo(50.0);
        assertThat(AnchorBench.bestRate(rounds, "decodeTokensPerSecond")).isEqualTo(5.5);
    }
}
