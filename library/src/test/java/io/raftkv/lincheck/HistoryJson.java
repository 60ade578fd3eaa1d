package io.raftkv.lincheck;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes (and reads back) histories as JSON so external checkers can read them.
 *
 * <p>A history is an array of objects such as
 * {@code {"client":1,"call":10,"return":25,"op":"put","key":"k","input":"v","output":"ok"}}, one per
 * line; a pending operation has {@code "return":null}. The ops are "put", "get", "replace", "delete" and
 * "cas"; a "cas" also has {@code "expected"}, the value it expected (null: the key absent), and no other
 * op has that field.
 */
public final class HistoryJson {

    private static final String[] FIELDS = {"client", "call", "return", "op", "key", "input", "output", "expected"};
    /** The index of "expected" in {@link #FIELDS}: the one field only a "cas" has. */
    private static final int EXPECTED = 7;

    private HistoryJson() {
    }

    /** Writes {@code history} to {@code out} as a JSON array. */
    public static void write(List<Operation> history, Appendable out) throws IOException {
        out.append('[');
        for (int i = 0; i < history.size(); i++) {
            Operation op = history.get(i);
            out.append(i == 0 ? "\n" : ",\n");
            out.append("{\"client\":").append(Integer.toString(op.clientId()))
                    .append(",\"call\":").append(Long.toString(op.callTime()))
                    .append(",\"return\":").append(op.pending() ? "null" : Long.toString(op.returnTime()))
                    .append(",\"op\":\"").append(op.kind().name().toLowerCase(Locale.ROOT))
                    .append("\",\"key\":");
            appendQuoted(op.key(), out);
            out.append(",\"input\":");
            appendQuoted(op.input(), out);
            out.append(",\"output\":");
            appendQuoted(op.output(), out);
            if (op.kind() == OpKind.CAS) {
                out.append(",\"expected\":");
                appendQuoted(op.expected(), out);
            }
            out.append('}');
        }
        out.append(history.isEmpty() ? "]\n" : "\n]\n");
    }

    /** Returns {@code history} as a JSON array. */
    public static String toJson(List<Operation> history) {
        StringBuilder b = new StringBuilder(history.size() * 96 + 4);
        try {
            write(history, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringBuilder never throws
        }
        return b.toString();
    }

    /**
     * Reads a history written by {@link #write}; any JSON whitespace and field order is accepted.
     *
     * @throws IllegalArgumentException if {@code json} is not such a history, saying where and why
     */
    public static List<Operation> parse(String json) {
        return new Reader(json).history();
    }

    /** Returns {@code s} as a JSON string literal, or {@code null} for null. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s == null ? 4 : s.length() + 2);
        try {
            appendQuoted(s, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toString();
    }

    private static void appendQuoted(String s, Appendable out) throws IOException {
        if (s == null) {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            // U+2028/2029 are legal JSON but end lines in JavaScript, so escape them for JS-based viewers.
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }

    /** A recursive-descent reader over one JSON text, just wide enough for histories. */
    private static final class Reader {
        private final String s;
        private int pos;

        Reader(String s) {
            if (s == null) {
                throw new IllegalArgumentException("history JSON is null");
            }
            this.s = s;
        }

        List<Operation> history() {
            skipSpace();
            expect('[', "the history to start with '['");
            List<Operation> ops = new ArrayList<>();
            skipSpace();
            if (peek() == ']') {
                pos++;
            } else {
                while (true) {
                    ops.add(operation(ops.size()));
                    skipSpace();
                    char c = next("',' or ']' after operation " + (ops.size() - 1));
                    if (c == ']') {
                        break;
                    }
                    if (c != ',') {
                        throw error(pos - 1, "expected ',' or ']' after operation " + (ops.size() - 1)
                                + " but found " + show(c));
                    }
                }
            }
            skipSpace();
            if (pos < s.length()) {
                throw error(pos, "unexpected " + show(s.charAt(pos)) + " after the history's closing ']'");
            }
            return ops;
        }

        private Operation operation(int index) {
            skipSpace();
            int start = pos;
            expect('{', "operation " + index + " to start with '{'");
            Object[] values = new Object[FIELDS.length];
            boolean[] seen = new boolean[FIELDS.length];
            skipSpace();
            if (peek() == '}') {
                pos++;
            } else {
                while (true) {
                    skipSpace();
                    int fieldPos = pos;
                    if (peek() != '"') {
                        throw error(pos, "expected a field name in operation " + index + " but found " + showNext());
                    }
                    String name = string();
                    int field = fieldIndex(name);
                    if (field < 0) {
                        throw error(fieldPos, "unknown field " + quote(name) + " in operation " + index);
                    }
                    if (seen[field]) {
                        throw error(fieldPos, "duplicate field " + quote(name) + " in operation " + index);
                    }
                    seen[field] = true;
                    skipSpace();
                    expect(':', "':' after field " + quote(name));
                    skipSpace();
                    values[field] = value(name);
                    skipSpace();
                    char c = next("',' or '}' in operation " + index);
                    if (c == '}') {
                        break;
                    }
                    if (c != ',') {
                        throw error(pos - 1, "expected ',' or '}' in operation " + index + " but found " + show(c));
                    }
                }
            }
            for (int f = 0; f < FIELDS.length; f++) {
                if (!seen[f] && f != EXPECTED) {
                    throw error(start, "operation " + index + " has no " + quote(FIELDS[f]) + " field");
                }
            }
            int client = toInt(values[0], "client", index, start);
            long call = requireNumber(values[1], "call", index, start);
            long ret = values[2] == null ? Operation.PENDING : requireNumber(values[2], "return", index, start);
            OpKind kind = kind(values[3], index, start);
            String key = requireString(values[4], "key", index, start);
            String input = optionalString(values[5], "input", index, start);
            String output = optionalString(values[6], "output", index, start);
            if (kind == OpKind.CAS && !seen[EXPECTED]) {
                throw error(start, "operation " + index + " is a cas and has no \"expected\" field (null: the key absent)");
            }
            if (kind != OpKind.CAS && seen[EXPECTED]) {
                throw error(start, "operation " + index + " has an \"expected\" field, which only a cas has");
            }
            String expected = optionalString(values[EXPECTED], "expected", index, start);
            try {
                return new Operation(client, call, ret, kind, key, input, output, expected);
            } catch (IllegalArgumentException e) {
                throw error(start, "operation " + index + " is invalid: " + e.getMessage());
            }
        }

        private Object value(String field) {
            char c = peek();
            if (c == '"') {
                return string();
            }
            if (c == '-' || (c >= '0' && c <= '9')) {
                return number(field);
            }
            if (s.startsWith("null", pos)) {
                pos += 4;
                return null;
            }
            throw error(pos, "expected a string, integer or null for field " + quote(field) + " but found " + showNext());
        }

        private Long number(String field) {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            int digits = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            if (pos == digits) {
                throw error(start, "expected digits in the number for field " + quote(field));
            }
            if (pos < s.length() && (s.charAt(pos) == '.' || s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                throw error(start, "field " + quote(field) + " must be an integer");
            }
            if (s.charAt(digits) == '0' && pos - digits > 1) {
                throw error(start, "leading zero in the number for field " + quote(field));
            }
            try {
                return Long.parseLong(s, start, pos, 10);
            } catch (NumberFormatException e) {
                throw error(start, "number for field " + quote(field) + " does not fit in a long");
            }
        }

        private String string() {
            int start = pos;
            pos++; // the opening quote
            StringBuilder b = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw error(start, "unterminated string");
                }
                char c = s.charAt(pos++);
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw error(pos - 1, "raw control character " + show(c) + " in a string; it must be escaped");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next("an escape character");
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw error(pos - 2, "truncated \\u escape");
                        }
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) {
                                throw error(pos - 2, "bad \\u escape " + quote(s.substring(pos - 2, pos + 4)));
                            }
                            code = code * 16 + d;
                        }
                        pos += 4;
                        b.append((char) code);
                    }
                    default -> throw error(pos - 2, "bad escape \\" + e);
                }
            }
        }

        private static int fieldIndex(String name) {
            for (int f = 0; f < FIELDS.length; f++) {
                if (FIELDS[f].equals(name)) {
                    return f;
                }
            }
            return -1;
        }

        private int toInt(Object v, String field, int index, int at) {
            long n = requireNumber(v, field, index, at);
            if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
                throw error(at, "field " + quote(field) + " of operation " + index + " does not fit in an int: " + n);
            }
            return (int) n;
        }

        private long requireNumber(Object v, String field, int index, int at) {
            if (v instanceof Long n) {
                return n;
            }
            throw error(at, "field " + quote(field) + " of operation " + index + " must be an integer, not " + describe(v));
        }

        private String requireString(Object v, String field, int index, int at) {
            if (v instanceof String str) {
                return str;
            }
            throw error(at, "field " + quote(field) + " of operation " + index + " must be a string, not " + describe(v));
        }

        private String optionalString(Object v, String field, int index, int at) {
            return v == null ? null : requireString(v, field, index, at);
        }

        private OpKind kind(Object v, int index, int at) {
            String name = requireString(v, "op", index, at);
            return switch (name) {
                case "put" -> OpKind.PUT;
                case "get" -> OpKind.GET;
                case "replace" -> OpKind.REPLACE;
                case "delete" -> OpKind.DELETE;
                case "cas" -> OpKind.CAS;
                default -> throw error(at, "field \"op\" of operation " + index
                        + " must be \"put\", \"get\", \"replace\", \"delete\" or \"cas\", not " + quote(name));
            };
        }

        private static String describe(Object v) {
            return v == null ? "null" : v instanceof String str ? "the string " + quote(str) : "the number " + v;
        }

        private void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        private char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        private char next(String expected) {
            if (pos >= s.length()) {
                throw error(pos, "expected " + expected + " but the input ended");
            }
            return s.charAt(pos++);
        }

        private void expect(char c, String expected) {
            if (pos >= s.length()) {
                throw error(pos, "expected " + expected + " but the input ended");
            }
            if (s.charAt(pos) != c) {
                throw error(pos, "expected " + expected + " but found " + show(s.charAt(pos)));
            }
            pos++;
        }

        private String showNext() {
            return pos < s.length() ? show(s.charAt(pos)) : "the end of input";
        }

        private static String show(char c) {
            return c < 0x20 || c == 0x7f ? String.format(Locale.ROOT, "U+%04X", (int) c) : "'" + c + "'";
        }

        private IllegalArgumentException error(int at, String message) {
            int line = 1;
            int column = 1;
            for (int i = 0; i < at && i < s.length(); i++) {
                if (s.charAt(i) == '\n') {
                    line++;
                    column = 1;
                } else {
                    column++;
                }
            }
            return new IllegalArgumentException("bad history JSON at line " + line + ", column " + column + ": " + message);
        }
    }
}
