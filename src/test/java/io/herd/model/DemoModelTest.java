package io.herd.model;

import io.herd.tokenizer.Tokenizer;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

final class DemoModelTest {

    @Test
    void isDeterministicLoadsAndGenerates(@TempDir Path tmp) throws Exception {
        Path a = DemoModel.write(tmp.resolve("a"));
        Path b = DemoModel.write(tmp.resolve("b"));
        for (String file : new String[] {"config.json", "model.safetensors", "tokenizer.model"}) {
            assertThat(sha256(a.resolve(file))).as(file).isEqualTo(sha256(b.resolve(file)));
        }

        Llama4Config parsed = Llama4ConfigParser.parse(a);
        assertThat(parsed.nLayers()).isEqualTo(DemoModel.config().nLayers());
        assertThat(parsed.nNopeLayers()).isPositive();
        Tokenizer tokenizer = Tokenizer.load(a);
        assertThat(tokenizer.vocabSize()).isEqualTo(parsed.vocabSize());
        assertThat(tokenizer.bosId()).isEqualTo(parsed.bosTokenId());
        String text = "Kafka streams tokens to the pipelines that asked for them.";
        assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);

        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(a);
             CpuForwardPass fp = new CpuForwardPass(Llama4Weights.load(ckpt, parsed, WeightQuantization.NONE),
                     KvBlockCounts.forSingleSequence(parsed, 512, 16), Precision.F32, 1)) {
            int[] prompt = tokenizer.encode(text, true, false);
            int[] first = new SingleSequence(fp).greedy(prompt, 8);
            int[] second = new SingleSequence(fp).greedy(prompt, 8);
            assertThat(first).hasSize(8).containsExactly(second);
            for (int id : first) assertThat(id).isBetween(0, parsed.vocabSize() - 1);
        }
    }

    @Test
    void ensureKeepsACompleteModel(@TempDir Path tmp) throws IOException {
        Path dir = DemoModel.ensure(tmp.resolve("m"));
        long modified = Files.getLastModifiedTime(dir.resolve("model.safetensors")).toMillis();
        DemoModel.ensure(dir);
        assertThat(Files.getLastModifiedTime(dir.resolve("model.safetensors")).toMillis()).isEqualTo(modified);
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
