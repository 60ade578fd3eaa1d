package io.raftkv.cli;

import java.util.Collection;
import java.util.Map;

/** JSON text for {@code raftkv client --output json}: objects with their fields in the order given, on one line. */
final class JsonText {
    private JsonText() {}

    /**
     * An object of {@code namesAndValues}: name, value, name, value... A value is a string, a number, a
     * boolean, null, a collection or a map of such, or a {@link Raw} already in JSON.
     */
    static String object(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) throw new IllegalArgumentException("names and values come in pairs");
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (i > 0) b.append(',');
            b.append(quote((String) namesAndValues[i])).append(':');
            append(b, namesAndValues[i + 1]);
        }
        return b.append('}').toString();
    }

    /** Text that is JSON already, put into an object or array as it is. */
    record Raw(String json) {}

    static String value(Object v) {
        StringBuilder b = new StringBuilder();
        append(b, v);
        return b.toString();
    }

    private static void append(StringBuilder b, Object v) {
        switch (v) {
            case null -> b.append("null");
            case String s -> b.append(quote(s));
            case Boolean x -> b.append(x);
            case Integer x -> b.append(x);
            case Long x -> b.append(x);
            case Raw raw -> b.append(raw.json());
            case Collection<?> c -> {
                b.append('[');
                boolean first = true;
                for (Object e : c) {
                    if (!first) b.append(',');
                    first = false;
                    append(b, e);
                }
                b.append(']');
            }
            case Map<?, ?> m -> {
                b.append('{');
                boolean first = true;
                for (var e : m.entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    b.append(quote(String.valueOf(e.getKey()))).append(':');
                    append(b, e.getValue());
                }
                b.append('}');
            }
            default -> throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
        }
    }

    static String quote(String s) {
        return io.raftkv.bench.SummaryJson.quote(s); // one JSON escaper for the command line
    }
}
