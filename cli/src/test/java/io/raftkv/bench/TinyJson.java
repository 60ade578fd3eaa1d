package io.raftkv.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads JSON into maps, lists, strings, doubles, booleans and nulls, strictly enough to tell
 * whether a file is well-formed: enough to check what the harness writes, no more.
 */
final class TinyJson {
    private final String s;
    private int i;

    private TinyJson(String s) {
        this.s = s;
    }

    /** @throws IllegalArgumentException saying where {@code json} is not JSON */
    static Object parse(String json) {
        TinyJson p = new TinyJson(json);
        Object v = p.value();
        p.space();
        if (p.i != json.length()) throw p.error("text after the value");
        return v;
    }

    private Object value() {
        space();
        if (i >= s.length()) throw error("a value expected");
        char c = s.charAt(i);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> word("true", Boolean.TRUE);
            case 'f' -> word("false", Boolean.FALSE);
            case 'n' -> word("null", null);
            default -> number();
        };
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        space();
        if (accept('}')) return m;
        do {
            space();
            String key = string();
            space();
            expect(':');
            if (m.containsKey(key)) throw error("duplicate key " + key);
            m.put(key, value());
            space();
        } while (accept(','));
        expect('}');
        return m;
    }

    private List<Object> array() {
        List<Object> a = new ArrayList<>();
        i++;
        space();
        if (accept(']')) return a;
        do {
            a.add(value());
            space();
        } while (accept(','));
        expect(']');
        return a;
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) throw error("unterminated string");
            char c = s.charAt(i++);
            if (c == '"') return b.toString();
            if (c < 0x20) throw error("control character in a string");
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    i += 4;
                }
                default -> throw error("bad escape \\" + e);
            }
        }
    }

    private Double number() {
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
        String n = s.substring(start, i);
        if (!n.matches("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?")) throw error("not a number: '" + n + "'");
        return Double.valueOf(n);
    }

    private Object word(String w, Object v) {
        if (!s.startsWith(w, i)) throw error(w + " expected");
        i += w.length();
        return v;
    }

    private void space() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
    }

    private boolean accept(char c) {
        if (i < s.length() && s.charAt(i) == c) {
            i++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!accept(c)) throw error("'" + c + "' expected");
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at offset " + i);
    }
}
