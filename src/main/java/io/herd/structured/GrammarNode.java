package io.herd.structured;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One element of a compiled output grammar. Nodes compare by identity (a schema compiles to a graph of them, cyclic
 * through {@link Reference}); {@link #productive} is set by {@link JsonSchemaCompiler}'s analysis: a node that has no
 * finite completion is never started, so every state a generator reaches can still finish.
 */
abstract sealed class GrammarNode permits GrammarNode.Literal, GrammarNode.Blank, GrammarNode.Text,
        GrammarNode.Numeric, GrammarNode.Choice, GrammarNode.Sequence, GrammarNode.ObjectShape,
        GrammarNode.ArrayShape, GrammarNode.Reference {
    /** At most this many whitespace characters between two JSON tokens (TOOLS.md §9: bound what a model can extend). */
    static final int MAX_BLANKS = 20;

    boolean productive;
    /** Fewest bytes of a document of this node; -1 until {@link CompletionDistance} computes it. */
    int minBytes = -1;

    /** Exact bytes. */
    static final class Literal extends GrammarNode {
        final byte[] bytes;

        Literal(String text) { this.bytes = text.getBytes(StandardCharsets.UTF_8); }
    }

    /** Optional whitespace between JSON tokens, at most {@link #MAX_BLANKS} characters. */
    static final class Blank extends GrammarNode {}

    /** A JSON string with its quotes, or (raw) bare text matching a regex. */
    static final class Text extends GrammarNode {
        final StringShape shape;
        final boolean raw;

        Text(StringShape shape, boolean raw) {
            this.shape = shape;
            this.raw = raw;
        }
    }

    static final class Numeric extends GrammarNode {
        final NumberShape shape;

        Numeric(NumberShape shape) { this.shape = shape; }
    }

    /** One of several alternatives (anyOf, oneOf, type arrays, enum). */
    static final class Choice extends GrammarNode {
        final List<GrammarNode> options;

        Choice(List<GrammarNode> options) { this.options = options; }
    }

    static final class Sequence extends GrammarNode {
        final GrammarNode[] items;

        Sequence(GrammarNode... items) { this.items = items; }
    }

    /**
     * An object whose declared properties come in declaration order (required ones always, optional ones may be
     * skipped); with no declared properties, any keys matching {@code keyNode} with values of {@code valueNode}.
     */
    static final class ObjectShape extends GrammarNode {
        /** Per declared property: the key literal, blanks, colon, blanks, the value and trailing blanks. */
        final GrammarNode[] members;
        final boolean[] required;
        final GrammarNode[] values;
        /** For free-form objects: one member (key, colon, value), repeatable; null when properties are declared. */
        final GrammarNode freeMember;

        ObjectShape(GrammarNode[] members, boolean[] required, GrammarNode[] values, GrammarNode freeMember) {
            this.members = members;
            this.required = required;
            this.values = values;
            this.freeMember = freeMember;
        }
    }

    /**
     * An array: {@code prefix} items first, then {@code items} (null: no more items), between minItems and maxItems
     * (-1: unbounded) in count.
     */
    static final class ArrayShape extends GrammarNode {
        final GrammarNode[] prefix;
        GrammarNode items;
        final int minItems;
        final int maxItems;

        ArrayShape(GrammarNode[] prefix, GrammarNode items, int minItems, int maxItems) {
            this.prefix = prefix;
            this.items = items;
            this.minItems = minItems;
            this.maxItems = maxItems;
        }

        GrammarNode itemAt(int index) {
            GrammarNode n = index < prefix.length ? prefix[index] : items;
            return n != null && n.productive ? n : null;
        }
    }

    /** A {@code $ref}, resolved after the target is compiled (targets may be recursive). */
    static final class Reference extends GrammarNode {
        final String pointer;
        GrammarNode target;

        Reference(String pointer) { this.pointer = pointer; }
    }
}
