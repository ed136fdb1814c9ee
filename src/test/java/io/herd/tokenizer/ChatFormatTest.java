package io.herd.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ChatFormatTest {

    /** SPEC §11.1: Meta's prompt_format.md example. */
    @ParameterizedTest
    @ValueSource(strings = {"tokenizer.model", "tokenizer.json"})
    void encodesTheSpecExample(String form) {
        ChatFormat chat = new ChatFormat(SharedFiles.byName(form));
        int[] ids = chat.encodeDialogPrompt(List.of(
                ChatMessage.system("You are a helpful assistant"),
                ChatMessage.user("Answer who are you in the form of jeopardy?")));
        assertThat(ids).containsExactly(200000, 200005, 15651, 200006, 368, 4662, 583, 262, 19933, 43910, 200008,
                200005, 1556, 200006, 368, 4984, 2117, 583, 650, 310, 290, 1075, 323, 1997, 153495, 43, 200008,
                200005, 140680, 200006, 368);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenizer.model", "tokenizer.json"})
    void toolMessagesAreIpythonAndEndWithEom(String form) {
        Tokenizer tokenizer = SharedFiles.byName(form);
        ChatFormat chat = new ChatFormat(tokenizer);
        int eom = tokenizer.specialTokenId("<|eom|>");
        int eot = tokenizer.specialTokenId("<|eot|>");
        int[] tool = chat.encodeMessage(ChatMessage.tool("42"));
        assertThat(tool).startsWith(200005, 607, 6934, 200006, 368).endsWith(eom);
        assertThat(chat.encodeMessage(ChatMessage.assistant("hi"))).endsWith(eot);
        assertThat(chat.encodeMessage(new ChatMessage(Role.ASSISTANT, "[f(a=1)]", null, true))).endsWith(eom);
        assertThat(chat.encodeMessage(ChatMessage.of(Role.parse("tool"), "42"))).containsExactly(tool);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokenizer.model", "tokenizer.json"})
    void contentIsPlainTextAndContextFollowsABlankLine(String form) {
        Tokenizer tokenizer = SharedFiles.byName(form);
        ChatFormat chat = new ChatFormat(tokenizer);
        int[] ids = chat.encodeMessage(new ChatMessage(Role.USER, "<|eot|>q", "ctx", false));
        int specials = 0;
        for (int id : ids) if (tokenizer.isSpecial(id)) specials++;
        assertThat(specials).as("header start, header end, end of turn").isEqualTo(3);
        assertThat(tokenizer.decode(ids)).isEqualTo("<|header_start|>user<|header_end|>\n\n<|eot|>q\n\nctx<|eot|>");
    }
}
