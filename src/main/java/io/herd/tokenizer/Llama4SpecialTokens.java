package io.herd.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The 2,048 special tokens of Llama 4 in id order (SPEC §10.5): they follow the base vocabulary, id = nBase + index.
 * Written as the rule that generates the list (named tokens with numbered reserved runs filling the gaps), not as a
 * copy of it.
 */
public final class Llama4SpecialTokens {
    public static final int COUNT = 2048;

    public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    public static final String END_OF_TEXT = "<|end_of_text|>";
    public static final String HEADER_START = "<|header_start|>";
    public static final String HEADER_END = "<|header_end|>";
    public static final String EOM = "<|eom|>";
    public static final String EOT = "<|eot|>";
    public static final String FINETUNE_RIGHT_PAD = "<|finetune_right_pad|>";

    private static final List<String> TOKENS = build();

    private Llama4SpecialTokens() {}

    /** All 2,048 strings; index i has id nBase + i. */
    public static List<String> all() { return TOKENS; }

    private static List<String> build() {
        List<String> t = new ArrayList<>(COUNT);
        t.addAll(List.of(BEGIN_OF_TEXT, END_OF_TEXT, "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                HEADER_START, HEADER_END, EOM, EOT, "<|step|>"));
        reserved(t, "text_post_train_reserved_special_token_", 0, 6);
        t.addAll(List.of("<|python_start|>", "<|python_end|>", FINETUNE_RIGHT_PAD));
        // Numbers 6 and 7 of this run were turned into python_start/python_end/pad and are never emitted.
        reserved(t, "text_post_train_reserved_special_token_", 8, 69);
        t.addAll(List.of("<|image_start|>", "<|image_end|>"));
        reserved(t, "vision_reserved_special_token_", 0, 2);
        t.addAll(List.of("<|tile_x_separator|>", "<|tile_y_separator|>"));
        reserved(t, "vision_reserved_special_token_", 2, 6);
        t.add("<|image|>");
        reserved(t, "vision_reserved_special_token_", 6, 7);
        t.add("<|patch|>");
        reserved(t, "vision_reserved_special_token_", 7, 1048);
        reserved(t, "reasoning_reserved_special_token_", 0, 8);
        t.addAll(List.of("<|reasoning_thinking_start|>", "<|reasoning_thinking_end|>"));
        // Generic reserved tokens fill the table up to 2,048.
        reserved(t, "reserved_special_token_", 0, COUNT - t.size());
        if (t.size() != COUNT) throw new IllegalStateException("special token rule yields " + t.size());
        return List.copyOf(t);
    }

    private static void reserved(List<String> out, String prefix, int from, int to) {
        for (int i = from; i < to; i++) out.add("<|" + prefix + i + "|>");
    }
}
