package io.herd.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a JSON Schema (the subset below, drafts 7 and 2020-12 spellings) into a {@link GrammarNode} graph whose
 * documents all validate against the schema. Supported: {@code type} (a name or an array of them), {@code properties},
 * {@code required}, {@code additionalProperties}, {@code items}, {@code prefixItems}, {@code minItems},
 * {@code maxItems}, {@code enum}, {@code const}, {@code anyOf}, {@code oneOf} (generated as anyOf: branches that
 * overlap can yield a document matching several), {@code allOf} with one branch, {@code $ref} into the document
 * ({@code $defs}/{@code definitions}, recursion included), {@code minLength}, {@code maxLength}, {@code pattern},
 * {@code format} (date, date-time, time, uuid, email), {@code minimum}, {@code maximum}, {@code exclusiveMinimum},
 * {@code exclusiveMaximum}; annotations are ignored. Any other keyword is refused with its name and location, never
 * ignored.
 *
 * <p>Generation choices that stay inside the schema: declared properties come in declaration order and extra
 * properties are not generated when some are declared; numbers have no exponent and at most
 * {@link NumberShape#MAX_DIGITS} digits; strings use short escapes only.
 */
final class JsonSchemaCompiler {
    static final int MAX_DEPTH = 64;
    static final int MAX_NODES = 20_000;
    static final int MAX_ENUM_VALUES = 1_000;

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    private static final Set<String> SUPPORTED = Set.of("type", "properties", "required", "additionalProperties",
            "items", "prefixItems", "minItems", "maxItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
            "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum");
    private static final List<String> ALL_TYPES = List.of("object", "array", "string", "number", "boolean", "null");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Formats as patterns; days stop at 28 so every generated date exists. */
    private static final Map<String, String> FORMATS = Map.of(
            "date", "^" + date() + "$",
            "time", "^" + time() + "$",
            "date-time", "^" + date() + "T" + time() + "$",
            "uuid", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "email", "^[A-Za-z0-9_+-]+(\\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9]+(-[A-Za-z0-9]+)*(\\.[A-Za-z0-9]+(-[A-Za-z0-9]+)*)*\\.[A-Za-z]{2,}$");

    private static String date() { return "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"; }

    private static String time() { return "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"; }

    private final JsonNode root;
    private final Map<String, GrammarNode.Reference> references = new LinkedHashMap<>();
    private final Map<String, RegexDfa> patterns = new HashMap<>();
    private final List<GrammarNode> nodes = new ArrayList<>();
    private GrammarNode anyValue;

    private JsonSchemaCompiler(JsonNode root) { this.root = root; }

    /** @throws InvalidConstraintException naming the keyword or location that cannot be compiled */
    static GrammarNode compile(JsonNode schema) {
        JsonSchemaCompiler c = new JsonSchemaCompiler(schema);
        GrammarNode top = c.schema(schema, "#", 0);
        c.resolveReferences();
        c.checkConsumingCycles();
        c.analyseProductivity();
        if (!top.productive) throw new InvalidConstraintException("the schema admits no value that can be generated");
        return top;
    }

    /** Any JSON value: what {@code {"type":"json_object"}} holds inside its braces. */
    static GrammarNode compileAnyObject() {
        JsonSchemaCompiler c = new JsonSchemaCompiler(JSON.createObjectNode());
        GrammarNode top = c.objectNode(JSON.createObjectNode(), "#", 0);
        c.resolveReferences();
        c.analyseProductivity();
        return top;
    }

    private <T extends GrammarNode> T add(T node) {
        if (nodes.size() >= MAX_NODES) throw new InvalidConstraintException("schema too large (more than " + MAX_NODES
                + " grammar nodes)");
        nodes.add(node);
        return node;
    }

    private GrammarNode schema(JsonNode s, String path, int depth) {
        if (depth > MAX_DEPTH) throw new InvalidConstraintException("schema nested deeper than " + MAX_DEPTH + " at " + path);
        if (s.isBoolean()) {
            if (s.booleanValue()) return any();
            throw new InvalidConstraintException("schema 'false' at " + path + " admits no value");
        }
        if (!s.isObject()) throw new InvalidConstraintException("schema at " + path + " is not an object");
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!SUPPORTED.contains(k) && !ANNOTATIONS.contains(k)) {
                throw new InvalidConstraintException("unsupported JSON Schema keyword '" + k + "' at " + path);
            }
        }
        if (s.has("$ref")) {
            onlyWith(s, path, "$ref");
            return reference(text(s, "$ref", path), path);
        }
        if (s.has("allOf")) {
            onlyWith(s, path, "allOf");
            JsonNode all = s.get("allOf");
            if (!all.isArray() || all.size() != 1) {
                throw new InvalidConstraintException("'allOf' is supported with exactly one schema (at " + path + ")");
            }
            return schema(all.get(0), path + "/allOf/0", depth + 1);
        }
        for (String k : List.of("anyOf", "oneOf")) {
            if (!s.has(k)) continue;
            if (s.has("anyOf") && s.has("oneOf")) {
                throw new InvalidConstraintException("'anyOf' together with 'oneOf' at " + path + " is not supported");
            }
            JsonNode list = s.get(k);
            if (!list.isArray() || list.isEmpty()) throw new InvalidConstraintException("'" + k + "' at " + path
                    + " must be a non-empty array");
            ObjectNode siblings = siblingsOf((ObjectNode) s, k);
            List<GrammarNode> options = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                JsonNode branch = siblings.isEmpty() ? list.get(i) : merged(siblings, list.get(i), path + "/" + k + "/" + i);
                options.add(schema(branch, path + "/" + k + "/" + i, depth + 1));
            }
            return options.size() == 1 ? options.getFirst() : add(new GrammarNode.Choice(options));
        }
        List<String> types = types(s, path);
        if (s.has("const") || s.has("enum")) return enumeration(s, types, path);
        List<GrammarNode> options = new ArrayList<>();
        for (String t : types) {
            switch (t) {
                case "object" -> options.add(objectNode(s, path, depth));
                case "array" -> options.add(arrayNode(s, path, depth));
                case "string" -> options.add(add(new GrammarNode.Text(stringShape(s, path), false)));
                case "number", "integer" -> {
                    if (t.equals("integer") && types.contains("number")) continue;
                    options.add(add(new GrammarNode.Numeric(numberShape(s, t.equals("integer"), path))));
                }
                case "boolean" -> {
                    options.add(add(new GrammarNode.Literal("true")));
                    options.add(add(new GrammarNode.Literal("false")));
                }
                case "null" -> options.add(add(new GrammarNode.Literal("null")));
                default -> throw new InvalidConstraintException("unknown type '" + t + "' at " + path);
            }
        }
        return options.size() == 1 ? options.getFirst() : add(new GrammarNode.Choice(options));
    }

    /** The keywords beside {@code keyword} that constrain (annotations left out). */
    private static ObjectNode siblingsOf(ObjectNode s, String keyword) {
        ObjectNode out = JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = s.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals(keyword) && !ANNOTATIONS.contains(e.getKey())) out.set(e.getKey(), e.getValue());
        }
        return out;
    }

    /**
     * Keywords beside anyOf/oneOf apply to every branch (S and (A or B) = (S and A) or (S and B)): each branch gets
     * them when it does not constrain the same keyword differently; {@code type} lists intersect and {@code required}
     * lists join. Other overlaps are refused rather than guessed.
     */
    private JsonNode merged(ObjectNode siblings, JsonNode branch, String path) {
        if (branch.isObject() && branch.has("$ref")) branch = resolvePointer(branch.get("$ref").asText());
        if (!branch.isObject()) throw new InvalidConstraintException("branch at " + path + " must be an object schema"
                + " when keywords stand beside it");
        ObjectNode out = ((ObjectNode) branch).deepCopy();
        for (Iterator<Map.Entry<String, JsonNode>> it = siblings.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            JsonNode mine = out.get(k);
            if (mine == null || mine.equals(e.getValue())) {
                out.set(k, e.getValue());
            } else if (k.equals("type")) {
                List<String> a = typeList(mine), b = typeList(e.getValue());
                com.fasterxml.jackson.databind.node.ArrayNode both = JSON.createArrayNode();
                for (String t : a) {
                    if (b.contains(t) || t.equals("integer") && b.contains("number")) both.add(t);
                    else if (t.equals("number") && b.contains("integer")) both.add("integer");
                }
                if (both.isEmpty()) throw new InvalidConstraintException("branch at " + path + " admits no type");
                out.set("type", both);
            } else if (k.equals("required") && mine.isArray() && e.getValue().isArray()) {
                com.fasterxml.jackson.databind.node.ArrayNode all = ((com.fasterxml.jackson.databind.node.ArrayNode) mine).deepCopy();
                for (JsonNode r : e.getValue()) if (!all.toString().contains(r.toString())) all.add(r);
                out.set("required", all);
            } else {
                throw new InvalidConstraintException("keyword '" + k + "' both beside and inside the branch at " + path
                        + " is not supported");
            }
        }
        return out;
    }

    private static List<String> typeList(JsonNode t) {
        List<String> out = new ArrayList<>();
        if (t.isTextual()) out.add(t.textValue());
        else for (JsonNode e : t) out.add(e.asText());
        return out;
    }

    /** Keywords that combine with another schema must stand alone (annotations aside). */
    private static void onlyWith(JsonNode s, String path, String keyword) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals(keyword) && !ANNOTATIONS.contains(k)) {
                throw new InvalidConstraintException("keyword '" + k + "' beside '" + keyword + "' at " + path
                        + " is not supported");
            }
        }
    }

    private List<String> types(JsonNode s, String path) {
        JsonNode t = s.get("type");
        if (t != null) {
            List<String> out = new ArrayList<>();
            if (t.isTextual()) out.add(t.textValue());
            else if (t.isArray() && !t.isEmpty()) for (JsonNode e : t) {
                if (!e.isTextual()) throw new InvalidConstraintException("'type' at " + path + " must hold names");
                if (!out.contains(e.textValue())) out.add(e.textValue());
            }
            else throw new InvalidConstraintException("'type' at " + path + " must be a name or a non-empty array");
            for (String name : out) {
                if (!ALL_TYPES.contains(name) && !name.equals("integer")) {
                    throw new InvalidConstraintException("unknown type '" + name + "' at " + path);
                }
            }
            return out;
        }
        // No type: every type is allowed, each constrained by the keywords that apply to it.
        return s.has("const") || s.has("enum") ? List.of() : ALL_TYPES;
    }

    private GrammarNode enumeration(JsonNode s, List<String> types, String path) {
        List<JsonNode> values = new ArrayList<>();
        if (s.has("const")) values.add(s.get("const"));
        if (s.has("enum")) {
            JsonNode e = s.get("enum");
            if (!e.isArray()) throw new InvalidConstraintException("'enum' at " + path + " must be an array");
            if (e.size() > MAX_ENUM_VALUES) throw new InvalidConstraintException("'enum' at " + path + " has more than "
                    + MAX_ENUM_VALUES + " values");
            e.forEach(values::add);
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("const") && !k.equals("enum") && !k.equals("type") && !ANNOTATIONS.contains(k)) {
                throw new InvalidConstraintException("keyword '" + k + "' beside 'enum'/'const' at " + path
                        + " is not supported");
            }
        }
        List<GrammarNode> options = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (JsonNode v : values) {
            if (!types.isEmpty() && !types.contains(typeOf(v)) && !(typeOf(v).equals("integer") && types.contains("number"))) {
                continue;
            }
            if (s.has("const") && s.has("enum") && !v.equals(s.get("const"))) continue;
            String literal = compact(v);
            if (seen.add(literal)) options.add(add(new GrammarNode.Literal(literal)));
        }
        if (options.isEmpty()) throw new InvalidConstraintException("'enum'/'const' at " + path
                + " leaves no value of the allowed type");
        return options.size() == 1 ? options.getFirst() : add(new GrammarNode.Choice(options));
    }

    private static String typeOf(JsonNode v) {
        if (v.isObject()) return "object";
        if (v.isArray()) return "array";
        if (v.isTextual()) return "string";
        if (v.isIntegralNumber() || (v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0)) return "integer";
        if (v.isNumber()) return "number";
        if (v.isBoolean()) return "boolean";
        return "null";
    }

    private GrammarNode objectNode(JsonNode s, String path, int depth) {
        JsonNode props = s.get("properties");
        JsonNode required = s.get("required");
        JsonNode additional = s.get("additionalProperties");
        if (props != null && !props.isObject()) throw new InvalidConstraintException("'properties' at " + path
                + " must be an object");
        Set<String> requiredNames = new LinkedHashSet<>();
        if (required != null) {
            if (!required.isArray()) throw new InvalidConstraintException("'required' at " + path + " must be an array");
            for (JsonNode r : required) {
                if (!r.isTextual()) throw new InvalidConstraintException("'required' at " + path + " must hold names");
                requiredNames.add(r.textValue());
            }
        }
        boolean additionalAllowed = additional == null || !additional.isBoolean() || additional.booleanValue();
        GrammarNode additionalValue = additional == null || additional.isBoolean() ? null
                : schema(additional, path + "/additionalProperties", depth + 1);
        Map<String, GrammarNode> declared = new LinkedHashMap<>();
        if (props != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                declared.put(e.getKey(), schema(e.getValue(), path + "/properties/" + e.getKey(), depth + 1));
            }
        }
        for (String name : requiredNames) {
            if (declared.containsKey(name)) continue;
            if (!additionalAllowed) throw new InvalidConstraintException("required property '" + name + "' at " + path
                    + " is neither declared nor allowed by additionalProperties");
            declared.put(name, additionalValue != null ? additionalValue : any());
        }
        GrammarNode.Literal colon = add(new GrammarNode.Literal(":"));
        GrammarNode.Blank blank = add(new GrammarNode.Blank());
        if (declared.isEmpty()) {
            GrammarNode member = null;
            if (additionalAllowed) {
                GrammarNode key = add(new GrammarNode.Text(new StringShape(RegexDfa.ANY, 0, -1), false));
                GrammarNode value = additionalValue != null ? additionalValue : any();
                member = add(new GrammarNode.Sequence(key, blank, colon, blank, value, blank));
            }
            return add(new GrammarNode.ObjectShape(new GrammarNode[0], new boolean[0], new GrammarNode[0], member));
        }
        int n = declared.size();
        GrammarNode[] members = new GrammarNode[n];
        GrammarNode[] values = new GrammarNode[n];
        boolean[] req = new boolean[n];
        int j = 0;
        for (Map.Entry<String, GrammarNode> e : declared.entrySet()) {
            GrammarNode key = add(new GrammarNode.Literal(compact(JSON.getNodeFactory().textNode(e.getKey()))));
            values[j] = e.getValue();
            req[j] = requiredNames.contains(e.getKey());
            members[j++] = add(new GrammarNode.Sequence(key, blank, colon, blank, e.getValue(), blank));
        }
        return add(new GrammarNode.ObjectShape(members, req, values, null));
    }

    private GrammarNode arrayNode(JsonNode s, String path, int depth) {
        List<GrammarNode> prefix = new ArrayList<>();
        JsonNode prefixItems = s.get("prefixItems");
        JsonNode items = s.get("items");
        if (prefixItems != null) {
            if (!prefixItems.isArray()) throw new InvalidConstraintException("'prefixItems' at " + path + " must be an array");
            for (int i = 0; i < prefixItems.size(); i++) {
                prefix.add(schema(prefixItems.get(i), path + "/prefixItems/" + i, depth + 1));
            }
        }
        GrammarNode itemNode;
        if (items == null) {
            itemNode = any();
        } else if (items.isArray()) {
            if (prefixItems != null) throw new InvalidConstraintException("'items' as an array beside 'prefixItems' at " + path);
            for (int i = 0; i < items.size(); i++) prefix.add(schema(items.get(i), path + "/items/" + i, depth + 1));
            itemNode = any(); // draft 7: items beyond a tuple are free unless additionalItems says otherwise
        } else if (items.isBoolean() && !items.booleanValue()) {
            itemNode = null;
        } else {
            itemNode = schema(items, path + "/items", depth + 1);
        }
        int min = count(s, "minItems", path, 0);
        int max = s.has("maxItems") ? count(s, "maxItems", path, -1) : -1;
        if (max >= 0 && min > max) throw new InvalidConstraintException("minItems " + min + " is above maxItems " + max
                + " at " + path);
        return add(new GrammarNode.ArrayShape(prefix.toArray(GrammarNode[]::new), itemNode, min, max));
    }

    private StringShape stringShape(JsonNode s, String path) {
        int min = count(s, "minLength", path, 0);
        int max = s.has("maxLength") ? count(s, "maxLength", path, -1) : -1;
        RegexDfa dfa = RegexDfa.ANY;
        if (s.has("pattern") && s.has("format")) {
            throw new InvalidConstraintException("'pattern' together with 'format' at " + path + " is not supported");
        }
        if (s.has("pattern")) dfa = pattern(text(s, "pattern", path), true);
        if (s.has("format")) {
            String f = text(s, "format", path);
            String p = FORMATS.get(f);
            if (p == null) throw new InvalidConstraintException("unsupported format '" + f + "' at " + path
                    + " (supported: date, date-time, time, uuid, email)");
            dfa = pattern(p, true);
        }
        try {
            return new StringShape(dfa, min, max);
        } catch (InvalidConstraintException e) {
            throw new InvalidConstraintException(e.getMessage() + " at " + path);
        }
    }

    private RegexDfa pattern(String p, boolean search) {
        return patterns.computeIfAbsent(p, x -> RegexDfa.compile(x, search));
    }

    private NumberShape numberShape(JsonNode s, boolean integer, String path) {
        BigDecimal min = decimal(s, "minimum", path), max = decimal(s, "maximum", path);
        boolean minEx = false, maxEx = false;
        JsonNode exMin = s.get("exclusiveMinimum"), exMax = s.get("exclusiveMaximum");
        if (exMin != null) {
            if (exMin.isBoolean()) minEx = exMin.booleanValue(); // draft 4
            else {
                BigDecimal v = decimal(s, "exclusiveMinimum", path);
                if (min == null || v.compareTo(min) >= 0) { min = v; minEx = true; }
            }
        }
        if (exMax != null) {
            if (exMax.isBoolean()) maxEx = exMax.booleanValue();
            else {
                BigDecimal v = decimal(s, "exclusiveMaximum", path);
                if (max == null || v.compareTo(max) <= 0) { max = v; maxEx = true; }
            }
        }
        return new NumberShape(integer, min, minEx, max, maxEx);
    }

    private static BigDecimal decimal(JsonNode s, String key, String path) {
        JsonNode v = s.get(key);
        if (v == null) return null;
        if (!v.isNumber()) throw new InvalidConstraintException("'" + key + "' at " + path + " must be a number");
        return v.decimalValue();
    }

    private static int count(JsonNode s, String key, String path, int absent) {
        JsonNode v = s.get(key);
        if (v == null) return absent;
        if (!v.canConvertToInt() || !v.isIntegralNumber() && v.decimalValue().stripTrailingZeros().scale() > 0
                || v.asInt() < 0) {
            throw new InvalidConstraintException("'" + key + "' at " + path + " must be a non-negative integer");
        }
        return v.asInt();
    }

    private static String text(JsonNode s, String key, String path) {
        JsonNode v = s.get(key);
        if (!v.isTextual()) throw new InvalidConstraintException("'" + key + "' at " + path + " must be a string");
        return v.textValue();
    }

    private static String compact(JsonNode v) {
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new InvalidConstraintException("cannot serialise " + v);
        }
    }

    // ---- references ----

    private GrammarNode reference(String pointer, String path) {
        if (!pointer.equals("#") && !pointer.startsWith("#/")) {
            throw new InvalidConstraintException("'$ref' " + pointer + " at " + path
                    + " is not supported (only references into the same document, '#…')");
        }
        return references.computeIfAbsent(pointer, p -> add(new GrammarNode.Reference(p)));
    }

    private void resolveReferences() {
        ArrayDeque<GrammarNode.Reference> todo = new ArrayDeque<>(references.values());
        Set<GrammarNode.Reference> done = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        while (!todo.isEmpty()) {
            GrammarNode.Reference r = todo.poll();
            if (!done.add(r)) continue;
            int before = references.size();
            r.target = schema(resolvePointer(r.pointer), r.pointer, 1);
            if (references.size() > before) {
                references.values().stream().filter(x -> !done.contains(x)).forEach(todo::add);
            }
        }
    }

    private JsonNode resolvePointer(String pointer) {
        JsonNode at = root;
        if (pointer.equals("#")) return at;
        for (String raw : pointer.substring(2).split("/", -1)) {
            String part = java.net.URLDecoder.decode(raw.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8)
                    .replace("~1", "/").replace("~0", "~");
            at = at.isArray() && part.matches("\\d+") ? at.get(Integer.parseInt(part)) : at.get(part);
            if (at == null) throw new InvalidConstraintException("'$ref' " + pointer + " points to nothing");
        }
        return at;
    }

    /** A reference or choice that reaches itself without consuming a byte would expand forever. */
    private void checkConsumingCycles() {
        Map<GrammarNode, Integer> color = new IdentityHashMap<>();
        for (GrammarNode n : nodes) visitNonConsuming(n, color);
    }

    private void visitNonConsuming(GrammarNode n, Map<GrammarNode, Integer> color) {
        Integer c = color.get(n);
        if (c != null) {
            if (c == 1) throw new InvalidConstraintException("'$ref' cycle that never reaches a value");
            return;
        }
        color.put(n, 1);
        if (n instanceof GrammarNode.Reference r) visitNonConsuming(r.target, color);
        if (n instanceof GrammarNode.Choice ch) for (GrammarNode o : ch.options) visitNonConsuming(o, color);
        color.put(n, 2);
    }

    private void analyseProductivity() {
        boolean changed = true;
        while (changed) {
            changed = false;
            for (GrammarNode n : nodes) {
                if (!n.productive && productive(n)) {
                    n.productive = true;
                    changed = true;
                }
            }
        }
    }

    private static boolean productive(GrammarNode n) {
        return switch (n) {
            case GrammarNode.Literal ignored -> true;
            case GrammarNode.Blank ignored -> true;
            case GrammarNode.Text ignored -> true;
            case GrammarNode.Numeric num -> num.shape.feasible("");
            case GrammarNode.Choice c -> c.options.stream().anyMatch(o -> o.productive);
            case GrammarNode.Sequence s -> java.util.Arrays.stream(s.items).allMatch(i -> i.productive);
            case GrammarNode.ObjectShape o -> {
                for (int j = 0; j < o.members.length; j++) if (o.required[j] && !o.members[j].productive) yield false;
                yield true;
            }
            case GrammarNode.ArrayShape a -> {
                for (int i = 0; i < a.minItems; i++) {
                    GrammarNode item = i < a.prefix.length ? a.prefix[i] : a.items;
                    if (item == null || !item.productive) yield false;
                }
                yield true;
            }
            case GrammarNode.Reference r -> r.target.productive;
        };
    }

    /** Any JSON value; built once per schema, recursive through a reference to itself. */
    private GrammarNode any() {
        if (anyValue != null) return anyValue;
        GrammarNode.Reference self = add(new GrammarNode.Reference("(any value)"));
        anyValue = self;
        GrammarNode.Literal colon = add(new GrammarNode.Literal(":"));
        GrammarNode.Blank blank = add(new GrammarNode.Blank());
        GrammarNode key = add(new GrammarNode.Text(new StringShape(RegexDfa.ANY, 0, -1), false));
        GrammarNode member = add(new GrammarNode.Sequence(key, blank, colon, blank, self, blank));
        List<GrammarNode> options = new ArrayList<>();
        options.add(add(new GrammarNode.ObjectShape(new GrammarNode[0], new boolean[0], new GrammarNode[0], member)));
        options.add(add(new GrammarNode.ArrayShape(new GrammarNode[0], self, 0, -1)));
        options.add(add(new GrammarNode.Text(new StringShape(RegexDfa.ANY, 0, -1), false)));
        options.add(add(new GrammarNode.Numeric(new NumberShape(false, null, false, null, false))));
        options.add(add(new GrammarNode.Literal("true")));
        options.add(add(new GrammarNode.Literal("false")));
        options.add(add(new GrammarNode.Literal("null")));
        self.target = add(new GrammarNode.Choice(options));
        return self;
    }
}
