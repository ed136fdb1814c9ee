package io.herd.serving;

import io.herd.engine.kv.BlockHash;
import io.herd.engine.kv.MultimodalSpan;
import io.herd.image.ContentPart;
import io.herd.image.ImageDecoder;
import io.herd.image.ImageLimits;
import io.herd.image.ImagePrompt;
import io.herd.image.ImagePromptEncoder;
import io.herd.image.ImageRejectedException;
import io.herd.image.ImageTokenLayout;
import io.herd.image.Llama4ImageProcessor;
import io.herd.image.ProcessedImage;
import io.herd.model.vision.ImageEmbedder;
import io.herd.model.vision.PatchTokenRows;
import io.herd.tokenizer.Role;
import io.herd.tokenizer.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link ImagePrompts} for a Llama 4 checkpoint with a vision tower: data URL → bytes → decoded image (bounded) →
 * tiles → prompt ids (Llama 4 chat layout with image runs); the vision tower runs later, when the engine takes the
 * request ({@link io.herd.engine.PromptEmbeddings}), and puts its features on the patch tokens. Each image's
 * span is hashed over its pixel values, so the same picture sent in another file format still hits the cache.
 */
public final class VisionPromptBuilder implements ImagePrompts {
    private final ImageLimits limits;
    private final ImageUrlReader source;
    private final ImageEncodeListener encodeListener;
    private final ImageDecoder decoder;
    private final Llama4ImageProcessor processor;
    private final ImagePromptEncoder encoder;
    private final ImageTokenLayout layout;
    private final ImageEmbedder embedder;
    private final int dModel;

    /** Data URLs only, encode times not reported. */
    public VisionPromptBuilder(Tokenizer tokenizer, ImageLimits limits, Llama4ImageProcessor processor,
                               ImageEmbedder embedder, int dModel) {
        this(tokenizer, limits, new ImageUrlReader(limits.maxImageBytes()), (tiles, nanos) -> { }, processor, embedder,
                dModel);
    }

    public VisionPromptBuilder(Tokenizer tokenizer, ImageLimits limits, ImageUrlReader source,
                               ImageEncodeListener encodeListener, Llama4ImageProcessor processor,
                               ImageEmbedder embedder, int dModel) {
        if (processor.config().tileSize() != embedder.config().imageSize())
            throw new IllegalArgumentException("image processor tiles of " + processor.config().tileSize()
                    + " pixels, vision tower of " + embedder.config().imageSize());
        this.limits = limits;
        this.source = source;
        this.encodeListener = encodeListener;
        this.decoder = new ImageDecoder(limits);
        this.processor = processor;
        this.layout = ImageTokenLayout.of(tokenizer, embedder.config().tokensPerTile());
        this.encoder = new ImagePromptEncoder(tokenizer, layout);
        this.embedder = embedder;
        this.dModel = dModel;
    }

    @Override
    public Encoded encode(List<RequestMessage> messages) {
        int nImages = 0;
        for (RequestMessage m : messages) if (m.parts() != null) for (MessagePart p : m.parts()) if (p.imageUrl() != null) nImages++;
        limits.checkImageCount(nImages);
        List<ImagePromptEncoder.Message> dialog = new ArrayList<>();
        int tiles = 0;
        long fetchDeadline = source.deadlineFromNow();
        for (RequestMessage m : messages) {
            List<ContentPart> parts = new ArrayList<>();
            if (m.parts() == null) parts.add(new ContentPart.Text(m.content()));
            else
                for (MessagePart p : m.parts()) {
                    if (p.text() != null) {
                        parts.add(new ContentPart.Text(p.text()));
                        continue;
                    }
                    ProcessedImage image = processor.process(decoder.decode(source.bytes(p.imageUrl(), fetchDeadline)));
                    tiles += image.plan().tiles();
                    limits.checkTileCount(tiles);
                    parts.add(new ContentPart.Image(image));
                }
            Role role;
            try {
                role = Role.parse(m.role());
            } catch (IllegalArgumentException e) {
                throw new RequestRejectedException("invalid_parameter", e.getMessage());
            }
            dialog.add(new ImagePromptEncoder.Message(role, parts));
        }
        ImagePrompt prompt;
        try {
            prompt = encoder.encode(dialog);
        } catch (IllegalArgumentException e) {
            throw new ImageRejectedException(ImageRejectedException.INVALID_IMAGE, e.getMessage());
        }
        int[] ids = prompt.ids();
        float[] pixels = prompt.pixels();
        int nTiles = prompt.tiles();
        return new Encoded(ids, () -> {
            long t0 = System.nanoTime();
            float[] features = embedder.embed(pixels, nTiles);
            encodeListener.encoded(nTiles, System.nanoTime() - t0);
            return PatchTokenRows.place(ids, layout.patch(), features, dModel);
        }, spans(prompt), imageTokens(prompt));
    }

    private int imageTokens(ImagePrompt prompt) {
        int n = 0;
        for (ProcessedImage i : prompt.images()) n += layout.length(i.plan());
        return n;
    }

    /** One span per image run (image_start … image_end), hashed over that image's pixel values. */
    private List<MultimodalSpan> spans(ImagePrompt prompt) {
        List<MultimodalSpan> spans = new ArrayList<>();
        int[] ids = prompt.ids();
        int next = 0;
        for (ProcessedImage image : prompt.images()) {
            while (ids[next] != layout.imageStart()) next++;
            int end = next + layout.length(image.plan());
            ByteBuffer bytes = ByteBuffer.allocate(image.pixels().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(image.pixels());
            spans.add(new MultimodalSpan(next, end, BlockHash.ofContent(bytes.array())));
            next = end;
        }
        return spans;
    }
}
