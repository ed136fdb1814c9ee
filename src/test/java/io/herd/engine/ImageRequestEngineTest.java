package io.herd.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.herd.engine.kv.BlockHash;
import io.herd.engine.kv.KvCacheConfig;
import io.herd.engine.kv.MultimodalSpan;
import io.herd.model.CpuForwardPass;
import io.herd.model.ForwardPass;
import io.herd.model.Llama4Config;
import io.herd.model.Llama4ConfigParser;
import io.herd.model.Llama4Weights;
import io.herd.model.Precision;
import io.herd.model.WeightQuantization;
import io.herd.model.sampling.SamplingParams;
import io.herd.model.vision.ImageEmbedder;
import io.herd.model.vision.Llama4VisionConfig;
import io.herd.model.vision.Llama4VisionConfigParser;
import io.herd.model.vision.Llama4VisionWeights;
import io.herd.model.vision.PatchTokenRows;
import io.herd.model.vision.VisionFixture;
import io.herd.runner.ModelRunner;
import io.herd.weights.SafetensorsCheckpoint;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Image requests through the engine (scheduler, paged KV, model runner, CPU forward pass) on the llama4-tiny-vision
 * fixture: batched with each other and a text-only request, chunked-prefilled across the images (16 tokens per step),
 * then again through prefix-cache hits, each giving Hugging Face's greedy ids.
 */
class ImageRequestEngineTest {
    private record ImageCase(int[] ids, ForwardPass.InputEmbeddings rows, List<MultimodalSpan> spans, int[] greedy) {}

    @Test
    void imageRequestsGiveHuggingFacesTokensBatchedChunkedAndFromTheCache() throws Exception {
        Llama4Config text = Llama4ConfigParser.parse(VisionFixture.dir());
        Llama4VisionConfig vision = Llama4VisionConfigParser.parse(VisionFixture.dir()).orElseThrow();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(VisionFixture.dir());
             CpuForwardPass fp = new CpuForwardPass(Llama4Weights.load(ckpt, text, WeightQuantization.NONE),
                     new io.herd.model.KvBlockCounts(4, 1024, 512), Precision.F32, 2)) {
            ImageEmbedder embedder = new ImageEmbedder(Llama4VisionWeights.load(ckpt, vision));
            ImageCase single = load("single-tile", embedder, vision, text), two = load("two-images", embedder, vision, text);
            EngineConfig config = new EngineConfig(new KvCacheConfig(1 << 20, 4, 0), 16, 8, 16, 1024, "vision", true, 0);
            try (EngineCore engine = new EngineCore(config, new ModelRunner(fp))) {
                int[] textPrompt = {200000, 200005, 1556, 200006, 368, 33576, 220, 26};
                RecordingSink a = submit(engine, "a", single), b = submit(engine, "b", two);
                RecordingSink t = new RecordingSink();
                engine.submit(new EngineRequest("t", textPrompt, SamplingParams.greedy(4), 0, Long.MAX_VALUE, null), t);
                for (RecordingSink s : List.of(a, b, t)) assertThat(s.done.await(60, TimeUnit.SECONDS)).isTrue();
                assertThat(a.tokenArray()).as("single-tile").containsExactly(single.greedy());
                assertThat(b.tokenArray()).as("two-images").containsExactly(two.greedy());
                assertThat(t.tokenArray()).hasSize(4);

                // Again: the same images hit the cache (every full block but the last token's).
                RecordingSink b2 = submit(engine, "b2", two);
                assertThat(b2.done.await(60, TimeUnit.SECONDS)).isTrue();
                assertThat(b2.cachedTokens).isEqualTo((two.ids().length - 1) / 4 * 4);
                assertThat(b2.tokenArray()).as("two-images from the cache").containsExactly(two.greedy());

                // Equal ids, another image content hash: only blocks before the first image are shared.
                ImageCase other = new ImageCase(two.ids(), two.rows(), List.of(new MultimodalSpan(
                        two.spans().getFirst().start(), two.spans().getFirst().end(), BlockHash.ofContent(new byte[] {9}))),
                        two.greedy());
                RecordingSink c = submit(engine, "c", other);
                assertThat(c.done.await(60, TimeUnit.SECONDS)).isTrue();
                assertThat(c.cachedTokens).isEqualTo(two.spans().getFirst().start() / 4 * 4);
                assertThat(c.tokenArray()).containsExactly(two.greedy());
            }
        }
    }

    private static RecordingSink submit(EngineCore engine, String id, ImageCase c) {
        RecordingSink sink = new RecordingSink();
        assertThat(engine.submit(new EngineRequest(id, c.ids(), SamplingParams.greedy(c.greedy().length), 0, Long.MAX_VALUE,
                null, c.spans(), PromptEmbeddings.of(c.rows())), sink)).isTrue();
        return sink;
    }

    /** HF's ids and pixel values for a case; one span over all image tokens, hashed over the pixel values. */
    private static ImageCase load(String name, ImageEmbedder embedder, Llama4VisionConfig vision, Llama4Config text) {
        JsonNode c = VisionFixture.testCase(name);
        int[] ids = VisionFixture.ints(c.get("input_ids"));
        float[] pixels;
        int tiles;
        try (SafetensorsCheckpoint stages = VisionFixture.stages(name)) {
            pixels = stages.tensor("pixel_values").toFloatArray();
            tiles = (int) stages.tensor("pixel_values").shape()[0];
        }
        ForwardPass.InputEmbeddings rows = PatchTokenRows.place(ids, vision.imageTokenId(), embedder.embed(pixels, tiles), text.dModel());
        int first = -1, last = -1;
        for (int i = 0; i < ids.length; i++)
            if (ids[i] == 200080 && first < 0) first = i;
            else if (ids[i] == 200081) last = i;
        ByteBuffer bytes = ByteBuffer.allocate(pixels.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float p : pixels) bytes.putFloat(p);
        JsonNode steps = c.get("greedy");
        int[] greedy = new int[steps.size()];
        for (int i = 0; i < greedy.length; i++) greedy[i] = steps.get(i).get("id").asInt();
        return new ImageCase(ids, rows, List.of(new MultimodalSpan(first, last + 1, BlockHash.ofContent(bytes.array()))), greedy);
    }
}
