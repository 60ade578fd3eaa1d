package io.raftkv.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
                new KvCommand(KvCommand.Op.PUT, 6, 1, "k", "x".repeat(100_000)),
                new KvCommand(KvCommand.Op.DELETE, 7, 3, "gone", ""),
                new KvCommand(KvCommand.Op.DELETE, 7, 4, "", ""),
                new KvCommand(KvCommand.Op.CAS, 8, 5, "k", "new", "old"),
                new KvCommand(KvCommand.Op.CAS, 8, 6, "k", "created", null),
                new KvCommand(KvCommand.Op.CAS, 8, 7, "", "", ""),
                new KvCommand(KvCommand.Op.CAS, 9, 1, "ключ", "日本 😀", "значение é"));
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
        String expected = p.expectedLength < 0 ? null
                : new String(bytes, p.expectedOffset, p.expectedLength, java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(c, new KvCommand(p.op, p.clientId, p.seq, key, value, expected));
    }

    /**
     * The bytes of a PUT, a REPLACE and a registration as builds before DELETE and CAS wrote them, spelled out:
     * they decode as they did, and those commands still encode to exactly these bytes (version 1), so a log or
     * a snapshot written before reads the same, and a node of an older build reads what a newer one writes.
     */
    @Test
    void version1CommandsWrittenBeforeDeleteAndCasExistedDecodeAndEncodeAsBefore() {
        byte[] put = {1, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 'k', 0, 0, 0, 2, 'v', '1'};
        byte[] replace = put.clone();
        replace[1] = 1;
        byte[] register = {1, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        assertEquals(new KvCommand(KvCommand.Op.PUT, 7, 3, "k", "v1"), KvCommand.decode(put));
        assertEquals(new KvCommand(KvCommand.Op.REPLACE, 7, 3, "k", "v1"), KvCommand.decode(replace));
        assertEquals(KvCommand.register(5), KvCommand.decode(register));
        assertArrayEquals(put, new KvCommand(KvCommand.Op.PUT, 7, 3, "k", "v1").encode());
        assertArrayEquals(put, KvCommand.encode(KvCommand.Op.PUT, 7, 3, "k", "v1", KvLimits.DEFAULT));
        byte[] fromEncoder = new KvCommand.Encoder().encode(KvCommand.Op.REPLACE, "k", "v1", KvLimits.DEFAULT);
        KvCommand.setSession(fromEncoder, 7, 3);
        assertArrayEquals(replace, fromEncoder);
        assertArrayEquals(register, KvCommand.register(5).encode());
    }

    /** DELETE and CAS are version 2, laid out as version 1 with a CAS's expected value after the value. */
    @Test
    void deleteAndCasAreVersion2WithTheExpectedValueAfterTheValue() {
        byte[] delete = {2, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 'k', 0, 0, 0, 0};
        assertArrayEquals(delete, new KvCommand(KvCommand.Op.DELETE, 7, 4, "k", "").encode());
        byte[] cas = {2, 4, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'n', 0, 0, 0, 2, 'o', 'l'};
        assertArrayEquals(cas, new KvCommand(KvCommand.Op.CAS, 7, 5, "k", "n", "ol").encode());
        byte[] casAbsent = {2, 4, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'n', -1, -1, -1, -1};
        assertArrayEquals(casAbsent, new KvCommand(KvCommand.Op.CAS, 7, 5, "k", "n", null).encode());
        assertEquals(new KvCommand(KvCommand.Op.CAS, 7, 5, "k", "n", null), KvCommand.decode(casAbsent));
        // A version 2 PUT (no writer makes one) reads as the version 1 PUT it equals.
        byte[] put2 = new KvCommand(KvCommand.Op.PUT, 7, 3, "k", "v").encode();
        put2[0] = 2;
        assertEquals(new KvCommand(KvCommand.Op.PUT, 7, 3, "k", "v"), KvCommand.decode(put2));
    }

    @Test
    void aDeleteWithAValueOrACasWithoutItsExpectedValueIsRefused() {
        byte[] delete = new KvCommand(KvCommand.Op.PUT, 7, 4, "k", "v").encode();
        delete[0] = 2;
        delete[1] = 3;
        assertEquals("a KV DELETE carries no value; this one has 1 bytes",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(delete)).getMessage());
        byte[] cas = new KvCommand(KvCommand.Op.PUT, 7, 4, "k", "v").encode();
        cas[0] = 2;
        cas[1] = 4;
        assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(cas));
        byte[] bad = new KvCommand(KvCommand.Op.CAS, 7, 4, "k", "v", "e").encode();
        ByteBuffer.wrap(bad).putInt(bad.length - 5, -2);
        assertEquals("bad expected value length -2 in KV command (1 bytes left)",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bad)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KvCommand(KvCommand.Op.PUT, 1, 1, "k", "v", "e"));
        assertThrows(IllegalArgumentException.class, () -> new KvCommand(KvCommand.Op.DELETE, 1, 1, "k", "v"));
    }

    static Stream<KvCommand> damageable() {
        return Stream.of(new KvCommand(KvCommand.Op.REPLACE, 12, 34, "key", "value"),
                new KvCommand(KvCommand.Op.DELETE, 12, 34, "key", ""),
                new KvCommand(KvCommand.Op.CAS, 12, 34, "key", "value", "old"),
                new KvCommand(KvCommand.Op.CAS, 12, 34, "key", "value", null));
    }

    @ParameterizedTest
    @MethodSource("damageable")
    void theInPlaceParserRefusesWhatTheDecoderRefusesWithTheSameMessage(KvCommand c) {
        byte[] whole = c.encode();
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
        assertEquals("KV command op 3 (DELETE) came with version 2; this command says version 1",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes)).getMessage());
        bytes[1] = 5;
        assertEquals("unknown KV command op 5",
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

    /**
     * The client's encoder must not take U+0080, the first char past ASCII, for ASCII: its test ORs the chars
     * together, and U+0080 alone sets only bit 7. Taken for ASCII it would be sent as the one byte 0x80, which
     * is not UTF-8: the node would refuse the write of a perfectly good value.
     */
    @Test
    void theClientsEncoderDoesNotTakeTheFirstCharPastAsciiForAscii() {
        KvLimits limits = KvLimits.DEFAULT;
        for (String s : new String[] {"\u0080", "\u0080\u0080", "\u00ff", "\u0100"}) {
            byte[] got = new KvCommand.Encoder().encode(KvCommand.Op.PUT, s, s, limits);
            assertArrayEquals(KvCommand.encode(KvCommand.Op.PUT, 0, 0, s, s, limits), got, s);
            assertEquals(new KvCommand(KvCommand.Op.PUT, 0, 0, s, s), KvCommand.decode(got));
        }
    }

    /**
     * The encoder copies a string through a scratch buffer that starts at 256 chars and doubles; a string that
     * fills it exactly, or is one char longer or shorter, encodes as any other. A scan one char too far would
     * fail a client's write of exactly that length.
     */
    @Test
    void theClientsEncoderTakesStringsThatFillItsBufferExactly() {
        KvLimits limits = KvLimits.DEFAULT;
        KvCommand.Encoder encoder = new KvCommand.Encoder();
        for (int n : new int[] {256, 255, 257, 512, 513, 1024}) {
            String key = "k".repeat(Math.min(n, limits.maxKeyBytes()));
            String value = "v".repeat(n);
            byte[] got = encoder.encode(KvCommand.Op.REPLACE, key, value, limits);
            assertArrayEquals(KvCommand.encode(KvCommand.Op.REPLACE, 0, 0, key, value, limits), got, "length " + n);
        }
    }

    /**
     * KvService.propose reads a command's op with writeOp to tell a write from anything else. The shortest
     * write (empty key and value, just the header and two lengths) is a write, or a client's PUT of "" to ""
     * would be refused; a command of another version is not one, whatever its bytes look like after.
     */
    @Test
    void writeOpNamesAClientWriteOfAVersionThatHasItAndNothingElse() {
        byte[] shortest = KvCommand.encode(KvCommand.Op.PUT, 1, 1, "", "");
        assertEquals(KvCommand.HEADER + 4, shortest.length);
        assertEquals(KvCommand.Op.PUT, KvCommand.writeOp(shortest));
        assertEquals(KvCommand.Op.REPLACE, KvCommand.writeOp(KvCommand.encode(KvCommand.Op.REPLACE, 1, 1, "k", "v")));
        assertNull(KvCommand.writeOp(KvCommand.register(5).encode()));
        assertNull(KvCommand.writeOp(Arrays.copyOf(shortest, shortest.length - 1)));
        byte[] otherVersion = KvCommand.encode(KvCommand.Op.PUT, 1, 1, "k", "v");
        otherVersion[0] = 3;
        assertNull(KvCommand.writeOp(otherVersion));
        byte[] deleteAsVersion1 = KvCommand.encode(KvCommand.Op.PUT, 1, 1, "k", "");
        deleteAsVersion1[1] = 3;
        assertNull(KvCommand.writeOp(deleteAsVersion1));
        byte[] unknownOp = new KvCommand(KvCommand.Op.CAS, 1, 1, "k", "v", null).encode();
        unknownOp[1] = 5;
        assertNull(KvCommand.writeOp(unknownOp));
        assertEquals(KvCommand.Op.DELETE, KvCommand.writeOp(new KvCommand(KvCommand.Op.DELETE, 1, 1, "", "").encode()));
        assertEquals(KvCommand.Op.CAS, KvCommand.writeOp(new KvCommand(KvCommand.Op.CAS, 1, 1, "k", "v", "e").encode()));
        byte[] register2 = KvCommand.register(5).encode();
        register2[0] = 2;
        assertNull(KvCommand.writeOp(register2));
    }

    /** The session and sequence number read back from the bytes are the ones written, however they got there. */
    @Test
    void theSessionAndSequenceNumberReadBackAsSet() {
        byte[] bytes = KvCommand.encode(KvCommand.Op.PUT, 0x0102030405060708L, -2, "k", "v");
        assertEquals(0x0102030405060708L, KvCommand.clientId(bytes));
        assertEquals(-2, KvCommand.seq(bytes));
        KvCommand.setSession(bytes, Long.MIN_VALUE, 77);
        assertEquals(Long.MIN_VALUE, KvCommand.clientId(bytes));
        assertEquals(77, KvCommand.seq(bytes));
        assertEquals(new KvCommand(KvCommand.Op.PUT, Long.MIN_VALUE, 77, "k", "v"), KvCommand.decode(bytes));
    }

    /**
     * check() is what a node runs on a command a client in its process encoded: it passes the command the
     * request describes, within the limits counted in UTF-8 bytes, and says exactly what is wrong with anything
     * else. Without it a client could log a write of another kind, session or sequence number than it asked for
     * (a retry that deduplicates against the wrong write), or a key or value past the limits.
     */
    @Test
    void checkPassesTheCommandTheRequestDescribesAndSaysWhatIsWrongWithAnyOther() {
        KvLimits limits = new KvLimits(4, 6);
        for (String[] kv : new String[][] {{"k", "v"}, {"abcd", "123456"}, {"éé", "€€"}, {"", ""}, {"a", "é€"}}) {
            KvCommand.check(KvCommand.encode(KvCommand.Op.PUT, 7, 9, kv[0], kv[1]), KvCommand.Op.PUT, 7, 9, limits);
            KvCommand.check(KvCommand.encode(KvCommand.Op.REPLACE, 7, 9, kv[0], kv[1]), KvCommand.Op.REPLACE, 7, 9, limits);
        }
        byte[] c = KvCommand.encode(KvCommand.Op.PUT, 7, 9, "k", "v");
        assertEquals("the encoded command (PUT, session 7, seq 9) does not match the request (REPLACE, session 7, seq 9)",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.check(c, KvCommand.Op.REPLACE, 7, 9, limits)).getMessage());
        assertEquals("the encoded command (PUT, session 7, seq 9) does not match the request (PUT, session 8, seq 9)",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.check(c, KvCommand.Op.PUT, 8, 9, limits)).getMessage());
        assertEquals("the encoded command (PUT, session 7, seq 9) does not match the request (PUT, session 7, seq 10)",
                assertThrows(IllegalArgumentException.class, () -> KvCommand.check(c, KvCommand.Op.PUT, 7, 10, limits)).getMessage());
        for (String[] kv : new String[][] {{"abcde", "v", "key is 5 bytes in UTF-8; the limit is 4"},
                {"ééé", "v", "key is 6 bytes in UTF-8; the limit is 4"},
                {"k", "1234567", "value is 7 bytes in UTF-8; the limit is 6"},
                {"é", "€€a", "value is 7 bytes in UTF-8; the limit is 6"},
                {"k", "ab€€", "value is 8 bytes in UTF-8; the limit is 6"}}) {
            byte[] over = KvCommand.encode(KvCommand.Op.PUT, 7, 9, kv[0], kv[1]);
            assertEquals(kv[2], assertThrows(IllegalArgumentException.class,
                    () -> KvCommand.check(over, KvCommand.Op.PUT, 7, 9, limits)).getMessage(), kv[0] + "=" + kv[1]);
        }
        byte[] badUtf8 = KvCommand.encode(KvCommand.Op.PUT, 7, 9, "é", "v");
        badUtf8[KvCommand.HEADER + 1] = 'x'; // the second byte of é
        assertEquals("the key of a KV command is not valid UTF-8", assertThrows(IllegalArgumentException.class,
                () -> KvCommand.check(badUtf8, KvCommand.Op.PUT, 7, 9, limits)).getMessage());
    }

    /** A CAS's expected value is held to the value limit, at encoding and in check(): a longer one could never match. */
    @Test
    void aCasExpectedValueIsCheckedAgainstTheValueLimit() {
        KvLimits limits = new KvLimits(4, 6);
        byte[] ok = KvCommand.encode(KvCommand.Op.CAS, 7, 9, "k", "v", "123456", limits);
        KvCommand.check(ok, KvCommand.Op.CAS, 7, 9, limits);
        KvCommand.check(KvCommand.encode(KvCommand.Op.CAS, 7, 9, "k", "v", null, limits), KvCommand.Op.CAS, 7, 9, limits);
        assertEquals("expected value is 7 bytes in UTF-8; the limit on values is 6", assertThrows(IllegalArgumentException.class,
                () -> KvCommand.encode(KvCommand.Op.CAS, 7, 9, "k", "v", "1234567", limits)).getMessage());
        assertEquals("expected value has an unpaired surrogate at index 1, which is not valid Unicode",
                assertThrows(IllegalArgumentException.class,
                        () -> KvCommand.encode(KvCommand.Op.CAS, 7, 9, "k", "v", "a\ud800", limits)).getMessage());
        assertEquals("value is 7 bytes in UTF-8; the limit is 6", assertThrows(IllegalArgumentException.class,
                () -> KvCommand.encode(KvCommand.Op.CAS, 7, 9, "k", "1234567", "e", limits)).getMessage());
        byte[] tooLong = new KvCommand(KvCommand.Op.CAS, 7, 9, "k", "v", "1234567").encode();
        assertEquals("expected value is 7 bytes in UTF-8; the limit on values is 6", assertThrows(IllegalArgumentException.class,
                () -> KvCommand.check(tooLong, KvCommand.Op.CAS, 7, 9, limits)).getMessage());
        byte[] delete = new KvCommand(KvCommand.Op.DELETE, 7, 9, "abcde", "").encode();
        assertEquals("key is 5 bytes in UTF-8; the limit is 4", assertThrows(IllegalArgumentException.class,
                () -> KvCommand.check(delete, KvCommand.Op.DELETE, 7, 9, limits)).getMessage());
    }

    /**
     * An op byte just past the last op is refused by the in-place parser and by check() as the decoder refuses
     * it. Were it taken for an op, the lookup would throw ArrayIndexOutOfBoundsException, which KvService does
     * not expect: the client would get no answer at all, and the exception would land in its connection's thread.
     */
    @Test
    void anOpJustPastTheLastIsRefusedByTheParserAndTheCheckAsByTheDecoder() {
        byte[] b = KvCommand.encode(KvCommand.Op.PUT, 1, 1, "k", "v");
        b[1] = (byte) KvCommand.Op.values().length;
        String expected = "unknown KV command op " + KvCommand.Op.values().length;
        assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(b)).getMessage());
        assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> new KvCommand.Parsed().parse(b)).getMessage());
        assertEquals(expected, assertThrows(IllegalArgumentException.class,
                () -> KvCommand.check(b, KvCommand.Op.PUT, 1, 1, KvLimits.DEFAULT)).getMessage());
    }

    /** A view leaves the value in the command's array, where the offset and the length it reports say. */
    @Test
    void aViewsValueIsWhereItSaysInTheCommandsArray() {
        for (String value : new String[] {"v", "", "välue ✓"}) {
            byte[] bytes = KvCommand.encode(KvCommand.Op.PUT, 1, 1, "kéy", value);
            KvCommand.Utf8 v = KvCommand.decodeView(bytes).value();
            int keyBytes = "kéy".getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            assertEquals(KvCommand.HEADER + keyBytes + 4, v.offset());
            assertEquals(bytes.length - v.offset(), v.length());
            assertEquals(value, v.toString());
        }
    }

    /**
     * utf8Length counts as the JDK's encoder does at every width boundary (1, 2, 3 and 4 bytes), and points at
     * an unpaired surrogate. A wrong count would let a key past the limit into the log, or refuse one within it.
     */
    @Test
    void utf8LengthCountsAsTheJdkAtEveryWidthBoundaryAndFindsUnpairedSurrogates() {
        for (String s : new String[] {"", "a", "\u007f", "\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff",
                "😀", "\ud800\udc00", "\udbff\udfff", "a\u0080\u0800😀z"}) {
            assertEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, KvCommand.utf8Length(s), s);
        }
        assertEquals(-1, KvCommand.utf8Length("\ud800"));
        assertEquals(-1 - 2, KvCommand.utf8Length("ab\udc00"));
        assertEquals(-1 - 1, KvCommand.utf8Length("a\ud800b"));
        assertEquals(-1 - 3, KvCommand.utf8Length("😀a\ud800"));
    }

    /** The message of the IllegalArgumentException {@code r} throws, or null if it throws none. */
    private static String refusal(Runnable r) {
        try {
            r.run();
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /**
     * Whatever a command's key or value length field says, the in-place parser and check() answer as the
     * decoder does: the same refusal with the same message, or the same acceptance. The parser's fast path
     * reads both fields itself; trusting a value length a few bytes too long would apply a value that runs
     * past the command's own bytes, and a replica that read it some other way would hold another value.
     */
    @Test
    void everyLengthFieldIsReadByTheParserAndTheCheckAsByTheDecoder() {
        byte[] whole = KvCommand.encode(KvCommand.Op.PUT, 1, 1, "key", "value");
        for (int field : new int[] {KvCommand.HEADER - 4, KvCommand.HEADER + 3}) {
            for (int length = -1; length <= 2 * whole.length + 8; length++) {
                byte[] b = whole.clone();
                ByteBuffer.wrap(b).putInt(field, length);
                String what = "length " + length + " at byte " + field;
                String expected = refusal(() -> KvCommand.decode(b));
                assertEquals(expected, refusal(() -> new KvCommand.Parsed().parse(b)), what);
                if (expected != null) {
                    assertEquals(expected, refusal(() -> KvCommand.check(b, KvCommand.Op.PUT, 1, 1, KvLimits.DEFAULT)), what);
                }
            }
        }
    }
}
