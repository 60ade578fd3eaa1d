package io.raftkv.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A write as the log stores it: what is encoded decodes to the same command, and garbage does not decode. */
class KvCommandTest {

    static Stream<KvCommand> commands() {
        return Stream.of(
                KvCommand.register(),
                new KvCommand(KvCommand.Op.PUT, 1, 1, "a", "1"),
                new KvCommand(KvCommand.Op.PUT, 42, 7, "", ""),
                new KvCommand(KvCommand.Op.REPLACE, Long.MAX_VALUE, Long.MAX_VALUE, "ключ", "значение"),
                new KvCommand(KvCommand.Op.PUT, 3, 9, "日本語のキー", "値 😀🎉 é ß"),
                new KvCommand(KvCommand.Op.REPLACE, 5, 2, "\u0000nul\u0000", "tab\tnew\nline"),
                new KvCommand(KvCommand.Op.PUT, 6, 1, "k", "x".repeat(100_000)));
    }

    @ParameterizedTest
    @MethodSource("commands")
    void whatIsEncodedDecodesToTheSameCommand(KvCommand c) {
        assertEquals(c, KvCommand.decode(c.encode()));
    }

    @ParameterizedTest
    @MethodSource("commands")
    void theInPlaceParserSeesWhatTheDecoderSees(KvCommand c) {
        byte[] bytes = c.encode();
        KvCommand.Parsed p = new KvCommand.Parsed();
        p.parse(bytes);
        String key = new String(bytes, p.keyOffset, p.keyLength, java.nio.charset.StandardCharsets.UTF_8);
        String value = new String(bytes, p.valueOffset, p.valueLength, java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(c, new KvCommand(p.op, p.clientId, p.seq, key, value));
    }

    @Test
    void theInPlaceParserRefusesWhatTheDecoderRefusesWithTheSameMessage() {
        byte[] whole = new KvCommand(KvCommand.Op.REPLACE, 12, 34, "key", "value").encode();
        for (int n = 0; n <= whole.length + 2; n++) {
            for (int at = 0; at < Math.min(n, whole.length); at++) {
                // Each prefix (and the whole with bytes after it), with one byte set to each of three bad values.
                for (byte bad : new byte[] {(byte) 0xFF, (byte) 0x80, 7}) {
                    byte[] b = Arrays.copyOf(whole, n);
                    b[at] = bad;
                    String expected;
                    try {
                        KvCommand.decode(b);
                        expected = null;
                    } catch (IllegalArgumentException e) {
                        expected = e.getMessage();
                    }
                    String got;
                    try {
                        new KvCommand.Parsed().parse(b);
                        got = null;
                    } catch (IllegalArgumentException e) {
                        got = e.getMessage();
                    }
                    assertEquals(expected, got, "length " + n + ", byte " + at + " set to " + bad);
                }
            }
        }
    }

    @Test
    void encodingAgainstLimitsRefusesWhatTheLimitsRefuseAndKeepsARealQuestionMark() {
        KvLimits limits = new KvLimits(4, 8);
        for (String[] kv : new String[][] {{"a\ud800", "v"}, {"k", "x\udc00"}, {"\ud800", "?"}, {"abcde", "v"},
                {"k", "123456789"}, {"é€", "v"}, {"k", "😀😀a"}}) {
            String expected = null;
            try {
                limits.checkKey(kv[0]);
                limits.checkValue(kv[1]);
            } catch (IllegalArgumentException e) {
                expected = e.getMessage();
            }
            assertEquals(expected, assertThrows(IllegalArgumentException.class,
                    () -> KvCommand.encode(KvCommand.Op.PUT, 1, 1, kv[0], kv[1], limits)).getMessage(), kv[0] + "=" + kv[1]);
        }
        for (String[] kv : new String[][] {{"?", "??"}, {"a?b", "what?"}, {"é", "😀"}, {"", ""}}) {
            byte[] bytes = KvCommand.encode(KvCommand.Op.PUT, 1, 1, kv[0], kv[1], limits);
            assertEquals(new KvCommand(KvCommand.Op.PUT, 1, 1, kv[0], kv[1]), KvCommand.decode(bytes));
        }
    }

    @Test
    void theClientsEncoderGivesTheSameBytesAndTheSameErrorsAsTheGeneralEncoding() {
        KvLimits limits = new KvLimits(20, 20_000);
        KvCommand.Encoder encoder = new KvCommand.Encoder();
        String[] strings = {"", "k", "?", "a?b", "é", "\u0141", "A\u0141B", "\u7f51", "😀", "a\ud800", "\udc00",
                "x".repeat(19), "x".repeat(20), "x".repeat(21), "é".repeat(10), "é".repeat(11), "v".repeat(300),
                "v".repeat(17_000), "v".repeat(20_000), "v".repeat(20_001), "v".repeat(19_999) + "é", "\u007f\u0080"};
        for (String key : strings) {
            for (String value : strings) {
                for (KvCommand.Op op : new KvCommand.Op[] {KvCommand.Op.PUT, KvCommand.Op.REPLACE}) {
                    String what = op + " " + abbreviate(key) + "=" + abbreviate(value);
                    byte[] expected;
                    try {
                        expected = KvCommand.encode(op, 0, 0, key, value, limits);
                    } catch (IllegalArgumentException e) {
                        assertEquals(e.getMessage(), assertThrows(IllegalArgumentException.class,
                                () -> encoder.encode(op, key, value, limits), what).getMessage(), what);
                        continue;
                    }
                    byte[] got = encoder.encode(op, key, value, limits);
                    assertArrayEquals(expected, got, what);
                    KvCommand.setSession(got, 7, 9);
                    assertEquals(new KvCommand(op, 7, 9, key, value), KvCommand.decode(got), what);
                }
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 24 ? s : s.substring(0, 10) + "…(" + s.length() + " chars)";
    }

    @Test
    void aRegistrationCarriesNoClientNoSequenceAndEmptyStrings() {
        KvCommand r = KvCommand.register();
        assertEquals(new KvCommand(KvCommand.Op.REGISTER, 0, 0, "", ""), r);
        assertEquals(r, KvCommand.decode(r.encode()));
    }

    @Test
    void stringsAreStoredAsUtf8() {
        byte[] bytes = new KvCommand(KvCommand.Op.PUT, 1, 1, "é", "😀").encode();
        // version, op, client id, seq, then length-prefixed key and value
        assertEquals(2 + 8 + 8 + 4 + 2 + 4 + 4, bytes.length);
    }

    @Test
    void anUnknownVersionIsRefused() {
        byte[] bytes = new KvCommand(KvCommand.Op.PUT, 1, 1, "a", "1").encode();
        bytes[0] = 9;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes));
        assertEquals("unknown KV command version 9", e.getMessage());
    }

    @Test
    void anUnknownOpIsRefused() {
        byte[] bytes = new KvCommand(KvCommand.Op.PUT, 1, 1, "a", "1").encode();
        bytes[1] = 3;
        assertEquals("unknown KV command op 3",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes)).getMessage());
        bytes[1] = -1;
        assertEquals("unknown KV command op -1",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes)).getMessage());
    }

    @Test
    void aStringLengthThatIsNegativeOrRunsPastTheEndIsRefused() {
        byte[] bytes = new KvCommand(KvCommand.Op.PUT, 1, 1, "a", "1").encode();
        int keyLength = 2 + 8 + 8;
        ByteBuffer.wrap(bytes).putInt(keyLength, -1);
        assertEquals("bad key length -1 in KV command (6 bytes left)",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes)).getMessage());
        ByteBuffer.wrap(bytes).putInt(keyLength, 1_000);
        assertEquals("bad key length 1000 in KV command (6 bytes left)",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes)).getMessage());
    }

    @Test
    void noTruncatedEncodingDecodesToACommand() {
        byte[] whole = new KvCommand(KvCommand.Op.REPLACE, 12, 34, "key", "value").encode();
        for (int n = 0; n < whole.length; n++) {
            byte[] part = Arrays.copyOf(whole, n);
            int length = n;
            assertThrows(RuntimeException.class, () -> KvCommand.decode(part), "a prefix of " + length + " bytes decoded");
        }
    }

    @Test
    void aTruncatedEncodingIsRefusedWithAMessage() {
        byte[] whole = new KvCommand(KvCommand.Op.REPLACE, 12, 34, "key", "value").encode();
        for (int n = 0; n < whole.length; n++) {
            byte[] part = Arrays.copyOf(whole, n);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(part),
                    "a prefix of " + n + " bytes");
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "a prefix of " + n + " bytes: no message");
        }
    }

    @Test
    void bytesAfterTheValueAreRefused() {
        KvCommand c = new KvCommand(KvCommand.Op.PUT, 1, 1, "a", "1");
        byte[] bytes = Arrays.copyOf(c.encode(), c.encode().length + 3);
        assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes));
    }

    @Test
    void malformedUtf8IsRefused() {
        byte[] bytes = new KvCommand(KvCommand.Op.PUT, 1, 1, "a", "1").encode();
        bytes[2 + 8 + 8 + 4] = (byte) 0xFF; // the key's only byte
        assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes));
    }

    @Test
    void aRealReplacementCharacterSurvivesButMalformedBytesBesideItAreRefused() {
        KvCommand c = new KvCommand(KvCommand.Op.PUT, 1, 1, "a\uFFFDb", "\uFFFD");
        assertEquals(c, KvCommand.decode(c.encode()));
        byte[] bytes = new KvCommand(KvCommand.Op.PUT, 1, 1, "k", "\uFFFDx").encode();
        bytes[bytes.length - 1] = (byte) 0xC3; // a lead byte with nothing after it
        assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes));
    }

    @Test
    void theEncodingIsAFreshArrayEachTime() {
        KvCommand c = new KvCommand(KvCommand.Op.PUT, 1, 1, "a", "1");
        byte[] first = c.encode();
        byte[] second = c.encode();
        assertArrayEquals(first, second);
        first[0] = 0;
        assertEquals(c, KvCommand.decode(second));
    }
}
