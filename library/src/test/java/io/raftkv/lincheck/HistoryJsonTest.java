package io.raftkv.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HistoryJsonTest {

    @Test
    void writesOneObjectPerOperationInTheDocumentedShape() {
        List<Operation> history = List.of(
                Operation.put(1, 10, 25, "k", "v"),
                Operation.get(2, 12, 30, "k", null),
                Operation.pendingReplace(3, 40, "k", "w"));
        assertEquals("[\n"
                + "{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"},\n"
                + "{\"client\":2,\"call\":12,\"return\":30,\"op\":\"get\",\"key\":\"k\",\"input\":null,\"output\":null},\n"
                + "{\"client\":3,\"call\":40,\"return\":null,\"op\":\"replace\",\"key\":\"k\",\"input\":\"w\",\"output\":null}\n"
                + "]\n", HistoryJson.toJson(history));
    }

    @Test
    void aCasCarriesItsExpectedValueAndADeleteNoInput() {
        List<Operation> history = List.of(
                Operation.cas(1, 10, 25, "k", "old", "new", true),
                Operation.pendingCas(2, 12, "k", null, "created"),
                Operation.delete(3, 30, 40, "k", false));
        String json = HistoryJson.toJson(history);
        assertEquals("[\n"
                + "{\"client\":1,\"call\":10,\"return\":25,\"op\":\"cas\",\"key\":\"k\",\"input\":\"new\",\"output\":\"true\","
                + "\"expected\":\"old\"},\n"
                + "{\"client\":2,\"call\":12,\"return\":null,\"op\":\"cas\",\"key\":\"k\",\"input\":\"created\",\"output\":null,"
                + "\"expected\":null},\n"
                + "{\"client\":3,\"call\":30,\"return\":40,\"op\":\"delete\",\"key\":\"k\",\"input\":null,\"output\":\"false\"}\n"
                + "]\n", json);
        assertEquals(history, HistoryJson.parse(json));
    }

    @Test
    void writeAndToJsonAgree() throws IOException {
        List<Operation> history = HistoryGenerator.linearizable(new Random(3), 50, 3, 4);
        StringWriter out = new StringWriter();
        HistoryJson.write(history, out);
        assertEquals(HistoryJson.toJson(history), out.toString());
    }

    @Test
    void anEmptyHistoryRoundTrips() {
        assertEquals("[]\n", HistoryJson.toJson(List.of()));
        assertEquals(List.of(), HistoryJson.parse("[]"));
        assertEquals(List.of(), HistoryJson.parse(" [ ] "));
    }

    @Test
    void randomHistoriesRoundTrip() {
        for (int seed = 0; seed < 20; seed++) {
            List<Operation> history = HistoryGenerator.linearizable(new Random(seed), 200, 4, 6);
            assertEquals(history, HistoryJson.parse(HistoryJson.toJson(history)), "seed " + seed);
        }
    }

    @Test
    void extremeNumbersRoundTrip() {
        List<Operation> history = List.of(
                Operation.put(Integer.MIN_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, "k", "v"),
                Operation.pendingPut(Integer.MAX_VALUE, Long.MAX_VALUE - 1, "k", "v"));
        assertEquals(history, HistoryJson.parse(HistoryJson.toJson(history)));
    }

    @Test
    void awkwardStringsAreEscapedAndRoundTrip() {
        String nasty = "quote\" backslash\\ slash/ newline\n tab\t cr\r nul\0 bell\u0007 del\u007f"
                + " ls\u2028 é 日本 \uD83D\uDE00 lone\uD800";
        List<Operation> history = List.of(
                Operation.put(1, 0, 1, nasty, nasty),
                Operation.get(2, 2, 3, "k\"ey", nasty));
        String json = HistoryJson.toJson(history);
        assertTrue(json.contains("quote\\\" backslash\\\\ slash/ newline\\u000a tab\\u0009 cr\\u000d nul\\u0000"), json);
        assertTrue(json.contains("del\\u007f ls\\u2028 é"), json);
        assertEquals(4, json.split("\n").length, "no raw line breaks inside strings: " + json);
        assertEquals(history, HistoryJson.parse(json));
    }

    @Test
    void parseAcceptsAnyWhitespaceFieldOrderAndStandardEscapes() {
        String json = " \r\n[ {\t\"output\" : \"ok\" , \"input\":\"a\\nb\\/c\\u00e9\\\"\", \"key\":\"k\","
                + " \"op\":\"put\", \"return\": 25, \"call\": -3, \"client\": 7 } ,\n"
                + "{\"client\":1,\"call\":30,\"return\":null,\"op\":\"get\",\"key\":\"k\",\"input\":null,\"output\":null} ]\n";
        assertEquals(List.of(
                        Operation.put(7, -3, 25, "k", "a\nb/cé\""),
                        Operation.pendingGet(1, 30, "k")),
                HistoryJson.parse(json));
    }

    private static final String GOOD =
            "{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}";

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "   ",
        "{}",
        "[",
        "[" + GOOD,
        "[" + GOOD + ",]",
        "[" + GOOD + "] x",
        "[" + GOOD + "][]",
        "[{}]",
        "[{\"client\":1}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\",\"extra\":1}]",
        "[{\"client\":1,\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":\"1\",\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10.5,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":1e3,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":010,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":99999999999999999999,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":9999999999,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":-,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":null,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"append\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"PUT\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":null,\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":30,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":null,\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"replace\",\"key\":\"k\",\"input\":\"v\",\"output\":\"maybe\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k,\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\n\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\\x\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\\u12\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\\u12G4\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":1 \"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{client:1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[{\"client\":true,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\"}]",
        "[" + GOOD + " " + GOOD + "]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"cas\",\"key\":\"k\",\"input\":\"v\",\"output\":\"true\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"put\",\"key\":\"k\",\"input\":\"v\",\"output\":\"ok\",\"expected\":null}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"delete\",\"key\":\"k\",\"input\":\"v\",\"output\":\"true\"}]",
        "[{\"client\":1,\"call\":10,\"return\":25,\"op\":\"delete\",\"key\":\"k\",\"input\":null,\"output\":\"ok\"}]",
        "[[]]",
    })
    void badJsonIsRejectedWithAClearMessage(String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HistoryJson.parse(json));
        assertTrue(e.getMessage().startsWith("bad history JSON at line "), e.getMessage());
    }

    @Test
    void badJsonMessagesSayWhereAndWhy() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HistoryJson.parse(
                "[\n" + GOOD + ",\n" + GOOD.replace("\"put\"", "\"append\"") + "\n]"));
        assertEquals("bad history JSON at line 3, column 1: field \"op\" of operation 1 must be"
                + " \"put\", \"get\", \"replace\", \"delete\" or \"cas\", not \"append\"", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HistoryJson.parse(null));
    }
}
