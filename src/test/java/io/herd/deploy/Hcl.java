package io.herd.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Just enough HCL reading for the Terraform cross-reference checks: comments removed, top-level blocks with their
 * labels and bodies, the top-level attribute names of a body, and the references ({@code var.x}, {@code module.m.o},
 * {@code aws_x.n}, {@code data.t.n}, {@code local.x}) in a text. Strings and {@code ${...}} interpolations are kept.
 */
final class Hcl {

    /** {@code kind "label" "label" {body}} at the top of a file. */
    record Block(String kind, List<String> labels, String body) {
        String label(int i) {
            return labels.get(i);
        }
    }

    /** All .tf files of one module folder, as one text. */
    record Module(Path dir, String text, List<Block> blocks) {

        static Module read(Path dir) {
            StringBuilder text = new StringBuilder();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".tf")).sorted().toList()) {
                    text.append(stripComments(ProjectFiles.read(file))).append('\n');
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
            return new Module(dir, text.toString(), Hcl.blocks(text.toString()));
        }

        List<Block> blocks(String kind) {
            return blocks.stream().filter(b -> b.kind().equals(kind)).toList();
        }

        Map<String, Block> variables() {
            Map<String, Block> variables = new LinkedHashMap<>();
            blocks("variable").forEach(b -> variables.put(b.label(0), b));
            return variables;
        }

        /** Variables without a default: a caller must pass them. */
        Set<String> requiredVariables() {
            Set<String> required = new LinkedHashSet<>();
            variables().forEach((name, block) -> {
                if (!attributes(block.body()).contains("default")) {
                    required.add(name);
                }
            });
            return required;
        }

        Set<String> outputs() {
            Set<String> outputs = new LinkedHashSet<>();
            blocks("output").forEach(b -> outputs.add(b.label(0)));
            return outputs;
        }

        /** {@code type.name} of every resource and {@code data.type.name} of every data source. */
        Set<String> declaredAddresses() {
            Set<String> declared = new LinkedHashSet<>();
            blocks("resource").forEach(b -> declared.add(b.label(0) + "." + b.label(1)));
            blocks("data").forEach(b -> declared.add("data." + b.label(0) + "." + b.label(1)));
            return declared;
        }

        Set<String> locals() {
            Set<String> locals = new LinkedHashSet<>();
            blocks("locals").forEach(b -> locals.addAll(attributes(b.body())));
            return locals;
        }
    }

    private static final Pattern BLOCK_START = Pattern.compile("^([a-z_]+)((?:\\s+\"[^\"]*\")*)\\s*\\{\\s*$");
    private static final Pattern LABEL = Pattern.compile("\"([^\"]*)\"");
    private static final Pattern ATTRIBUTE = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_-]*)\\s*=(?!=)");
    /** Provider prefixes of the resource types this tree uses. */
    private static final String TYPES = "(?:aws|google|helm|random|tls|kubernetes|kafka)_[a-z0-9_]+";
    private static final Pattern RESOURCE_REF = Pattern.compile("(?<![\\w.\"/-])(data\\.)?(" + TYPES + ")\\.([a-z_][a-z0-9_-]*)");
    private static final Pattern VAR_REF = Pattern.compile("(?<![\\w.])var\\.([a-z_][a-z0-9_]*)");
    private static final Pattern LOCAL_REF = Pattern.compile("(?<![\\w.])local\\.([a-z_][a-z0-9_]*)");
    private static final Pattern MODULE_REF = Pattern.compile("(?<![\\w.])module\\.([a-z_][a-z0-9_]*)(?:\\.([a-z_][a-z0-9_]*))?");

    private Hcl() {
    }

    static Set<String> variableReferences(String text) {
        return matches(VAR_REF, text, 1);
    }

    static Set<String> localReferences(String text) {
        return matches(LOCAL_REF, text, 1);
    }

    /** {@code type.name} or {@code data.type.name} addresses referenced in a text. */
    static Set<String> resourceReferences(String text) {
        Set<String> refs = new LinkedHashSet<>();
        Matcher m = RESOURCE_REF.matcher(text);
        while (m.find()) {
            refs.add((m.group(1) == null ? "" : "data.") + m.group(2) + "." + m.group(3));
        }
        return refs;
    }

    /** {@code module.name.output} references, as [name, output] (output null for a bare {@code module.name}). */
    static List<String[]> moduleReferences(String text) {
        List<String[]> refs = new ArrayList<>();
        Matcher m = MODULE_REF.matcher(text);
        while (m.find()) {
            refs.add(new String[] {m.group(1), m.group(2)});
        }
        return refs;
    }

    private static Set<String> matches(Pattern pattern, String text, int group) {
        Set<String> found = new LinkedHashSet<>();
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            found.add(m.group(group));
        }
        return found;
    }

    /** Names assigned at the top level of a block body ({@code name = ...}), not inside nested blocks or values. */
    static Set<String> attributes(String body) {
        Set<String> names = new LinkedHashSet<>();
        String[] lines = body.split("\n", -1);
        int[] depths = depthAtLineStarts(body);
        for (int i = 0; i < lines.length; i++) {
            Matcher m = ATTRIBUTE.matcher(lines[i]);
            if (depths[i] == 0 && m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    static List<Block> blocks(String text) {
        List<Block> blocks = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        int[] depths = depthAtLineStarts(text);
        int offset = 0;
        for (int i = 0; i < lines.length; i++) {
            Matcher m = BLOCK_START.matcher(lines[i]);
            if (depths[i] == 0 && m.matches()) {
                int open = offset + lines[i].lastIndexOf('{');
                int close = matchingBrace(text, open);
                List<String> labels = new ArrayList<>();
                Matcher label = LABEL.matcher(m.group(2));
                while (label.find()) {
                    labels.add(label.group(1));
                }
                blocks.add(new Block(m.group(1), List.copyOf(labels), text.substring(open + 1, close)));
            }
            offset += lines[i].length() + 1;
        }
        return blocks;
    }

    /** Bracket depth ({ [ ( ) ] }) at the start of each line, ignoring brackets inside string literals (not interpolations). */
    static int[] depthAtLineStarts(String text) {
        String[] lines = text.split("\n", -1);
        int[] depths = new int[lines.length];
        int depth = 0;
        int line = 0;
        depths[0] = 0;
        Scanner s = new Scanner(text);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean code = s.isCode(i);
            if (code && (c == '{' || c == '[' || c == '(')) {
                depth++;
            } else if (code && (c == '}' || c == ']' || c == ')')) {
                depth--;
            } else if (c == '\n') {
                depths[++line] = depth;
            }
        }
        return depths;
    }

    private static int matchingBrace(String text, int open) {
        Scanner s = new Scanner(text);
        int depth = 0;
        for (int i = open; i < text.length(); i++) {
            if (!s.isCode(i)) {
                continue;
            }
            char c = text.charAt(i);
            if (c == '{' || c == '[' || c == '(') {
                depth++;
            } else if (c == '}' || c == ']' || c == ')') {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        throw new IllegalArgumentException("unbalanced braces after offset " + open);
    }

    /** Removes # and // line comments and block comments outside string literals. */
    static String stripComments(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                out.append(c);
                if (c == '\\' && i + 1 < text.length()) {
                    out.append(text.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
                out.append(c);
            } else if (c == '#' || (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '/')) {
                while (i < text.length() && text.charAt(i) != '\n') {
                    i++;
                }
                if (i < text.length()) {
                    out.append('\n');
                }
            } else if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
                int end = text.indexOf("*/", i + 2);
                String removed = text.substring(i, end < 0 ? text.length() : end + 2);
                out.append("\n".repeat((int) removed.chars().filter(ch -> ch == '\n').count()));
                i = end < 0 ? text.length() : end + 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Marks which characters are code, that is outside string literals; an interpolation belongs to its string, and its
     * braces balance within it. Herd's HCL uses no heredocs and no strings nested inside interpolations (TerraformTest
     * checks the first), which this does not handle.
     */
    private static final class Scanner {
        private final boolean[] code;

        Scanner(String text) {
            code = new boolean[text.length()];
            boolean inString = false;
            int interpolation = 0;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (!inString) {
                    code[i] = c != '"';
                    if (c == '"') {
                        inString = true;
                    }
                } else if (interpolation > 0) {
                    if (c == '{') {
                        interpolation++;
                    } else if (c == '}') {
                        interpolation--;
                    }
                    code[i] = false;
                } else if (c == '\\') {
                    i++;
                } else if (c == '$' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
                    interpolation = 1;
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            }
        }

        boolean isCode(int i) {
            return code[i];
        }
    }
}
