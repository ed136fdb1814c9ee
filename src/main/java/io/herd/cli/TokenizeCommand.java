package io.herd.cli;

import io.herd.model.Llama4Checkpoint;
import io.herd.tokenizer.ChatFormat;
import io.herd.tokenizer.Tokenizer;
import io.herd.weights.CheckpointFormatException;
import io.herd.weights.gguf.GgufCheckpoint;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * {@code herd tokenize --model DIR (--text TEXT | --chat FILE.json | --decode 1,2,3) [--bos] [--pieces]}: shows how
 * the checkpoint's tokenizer encodes a text or a dialog (ids, comma-separated; with --pieces one id and its bytes as
 * text per line), or decodes ids.
 */
final class TokenizeCommand {
    static final String USAGE = """
            usage: herd tokenize --model DIR|FILE.gguf (--text TEXT | --chat FILE.json | --decode 1,2,3) [--bos] [--pieces]
              --text TEXT      encode plain text (special-token strings stay text); --bos puts <|begin_of_text|> first
              --chat FILE      encode a dialog in the Llama 4 chat format, generation prompt included
              --decode IDS     print the text of comma-separated ids
              --pieces         one line per token: id, tab, its text (incomplete UTF-8 shows as U+FFFD)
            """;

    private final PrintStream out;
    private final PrintStream err;

    TokenizeCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        Path model = null;
        Path chat = null;
        String text = null;
        String decode = null;
        boolean bos = false;
        boolean pieces = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--bos" -> bos = true;
                    case "--pieces" -> pieces = true;
                    case "--help", "-h" -> {
                        out.print(USAGE);
                        return 0;
                    }
                    case "--model", "--text", "--chat", "--decode" -> {
                        if (i + 1 >= args.length) throw new UsageException(args[i] + " needs a value");
                        String value = args[++i];
                        switch (args[i - 1]) {
                            case "--model" -> model = Path.of(value);
                            case "--text" -> text = value;
                            case "--chat" -> chat = Path.of(value);
                            default -> decode = value;
                        }
                    }
                    default -> throw new UsageException("unknown argument " + args[i]);
                }
            }
            if (model == null) throw new UsageException("--model DIR is required");
            if ((text != null ? 1 : 0) + (chat != null ? 1 : 0) + (decode != null ? 1 : 0) != 1) {
                throw new UsageException("give exactly one of --text, --chat, --decode");
            }
        } catch (UsageException e) {
            err.println("herd tokenize: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        try {
            Tokenizer tokenizer = load(model);
            if (decode != null) {
                int[] ids;
                try {
                    ids = Arrays.stream(decode.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--decode must be comma-separated integers, got '" + decode + "'");
                }
                out.println(tokenizer.decode(ids));
                return 0;
            }
            int[] ids = text != null ? tokenizer.encode(text, bos, false)
                    : new ChatFormat(tokenizer).encodeDialogPrompt(GenerateCommand.readDialog(chat));
            if (pieces) {
                for (int id : ids) out.println(id + "\t" + tokenizer.decode(new int[]{id}));
            } else {
                out.println(Arrays.stream(ids).mapToObj(String::valueOf).collect(Collectors.joining(",")));
            }
            return 0;
        } catch (IllegalArgumentException | UncheckedIOException | CheckpointFormatException e) {
            err.println("herd tokenize: " + e.getMessage());
            return 1;
        }
    }

    /** A folder's tokenizer file, or a GGUF's own vocabulary. */
    private static Tokenizer load(Path model) {
        if (!Llama4Checkpoint.isGguf(model)) return Tokenizer.load(model);
        try (GgufCheckpoint gguf = GgufCheckpoint.open(model)) {
            return Llama4Checkpoint.tokenizerOf(gguf.metadata());
        }
    }
}
