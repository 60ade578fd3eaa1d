package io.raftkv.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Key and value limits, counted in UTF-8 bytes as they will be stored. */
class KvLimitsTest {

    @Test
    void utf8LengthCountsOneByteForAscii() {
        assertEquals(0, KvCommand.utf8Length(""));
        assertEquals(3, KvCommand.utf8Length("abc"));
        assertEquals(1, KvCommand.utf8Length("\u007f"));
    }

    @Test
    void utf8LengthCountsTwoBytesFromU0080ToU07FF() {
        assertEquals(2, KvCommand.utf8Length("\u0080"));
        assertEquals(2, KvCommand.utf8Length("é"));
        assertEquals(2, KvCommand.utf8Length("\u07ff"));
    }

    @Test
    void utf8LengthCountsThreeBytesForTheRestOfTheBasicPlane() {
        assertEquals(3, KvCommand.utf8Length("\u0800"));
        assertEquals(3, KvCommand.utf8Length("€"));
        assertEquals(3, KvCommand.utf8Length("日"));
        assertEquals(3, KvCommand.utf8Length("\uffff"));
    }

    @Test
    void utf8LengthCountsFourBytesForASurrogatePair() {
        assertEquals(4, KvCommand.utf8Length("😀"));
        assertEquals(8, KvCommand.utf8Length("😀🎉"));
        assertEquals(4, KvCommand.utf8Length(new String(Character.toChars(0x10FFFF))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "plain ascii", "é€😀日本", "a😀b€cé", "ключ", "\u0000"})
    void utf8LengthIsTheLengthOfTheEncodedBytes(String s) {
        assertEquals(s.getBytes(StandardCharsets.UTF_8).length, KvCommand.utf8Length(s));
    }

    @Test
    void anUnpairedSurrogateIsReportedWithItsPositionRatherThanCounted() {
        // UTF-8 cannot carry it (Java would write '?'), so the length says where it is instead.
        assertEquals(-1, KvCommand.utf8Length("\ud800"));
        assertEquals(-1, KvCommand.utf8Length("\udc00"));
        assertEquals(-2, KvCommand.utf8Length("a\ud800"));
        assertEquals("value has an unpaired surrogate at index 1, which is not valid Unicode",
                assertThrows(IllegalArgumentException.class, () -> KvLimits.DEFAULT.checkValue("a\ud800b")).getMessage());
    }

    @Test
    void aKeyUpToTheLimitIsAcceptedAndOneByteMoreIsRefusedWithItsSize() {
        KvLimits limits = new KvLimits(4, 8);
        assertDoesNotThrow(() -> limits.checkKey("abcd"));
        assertDoesNotThrow(() -> limits.checkKey("éé"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> limits.checkKey("abcde"));
        assertEquals("key is 5 bytes in UTF-8; the limit is 4", e.getMessage());
    }

    @Test
    void multiByteCharactersCountByTheirBytesNotTheirChars() {
        KvLimits limits = new KvLimits(4, 8);
        assertDoesNotThrow(() -> limits.checkKey("😀"));
        assertEquals("key is 5 bytes in UTF-8; the limit is 4",
                assertThrows(IllegalArgumentException.class, () -> limits.checkKey("é€")).getMessage());
        assertDoesNotThrow(() -> limits.checkValue("😀😀"));
        assertEquals("value is 9 bytes in UTF-8; the limit is 8",
                assertThrows(IllegalArgumentException.class, () -> limits.checkValue("😀😀a")).getMessage());
    }

    @Test
    void nullKeysAndValuesAreRefusedWithNullPointerException() {
        assertEquals("key must not be null",
                assertThrows(NullPointerException.class, () -> KvLimits.DEFAULT.checkKey(null)).getMessage());
        assertEquals("value must not be null",
                assertThrows(NullPointerException.class, () -> KvLimits.DEFAULT.checkValue(null)).getMessage());
    }

    @Test
    void theDefaultsAreOneKibibyteKeysAndOneMebibyteValues() {
        assertEquals(new KvLimits(1024, 1 << 20), KvLimits.DEFAULT);
        assertDoesNotThrow(() -> KvLimits.DEFAULT.checkKey("k".repeat(1024)));
        assertThrows(IllegalArgumentException.class, () -> KvLimits.DEFAULT.checkKey("k".repeat(1025)));
        assertDoesNotThrow(() -> KvLimits.DEFAULT.checkValue("v".repeat(1 << 20)));
        assertThrows(IllegalArgumentException.class, () -> KvLimits.DEFAULT.checkValue("v".repeat((1 << 20) + 1)));
    }

    @Test
    void emptyKeysAndAZeroValueLimitAreAllowed() {
        KvLimits limits = new KvLimits(1, 0);
        assertDoesNotThrow(() -> limits.checkKey(""));
        assertDoesNotThrow(() -> limits.checkValue(""));
        assertEquals("value is 1 bytes in UTF-8; the limit is 0",
                assertThrows(IllegalArgumentException.class, () -> limits.checkValue("x")).getMessage());
    }

    @Test
    void limitsBelowTheirMinimumAreRefused() {
        assertEquals("maxKeyBytes must be >= 1, was 0",
                assertThrows(IllegalArgumentException.class, () -> new KvLimits(0, 10)).getMessage());
        assertEquals("maxValueBytes must be >= 0, was -1",
                assertThrows(IllegalArgumentException.class, () -> new KvLimits(10, -1)).getMessage());
    }

    @Test
    void aStringThatIsNotValidUnicodeIsRefusedRatherThanStoredChanged() {
        assertThrows(IllegalArgumentException.class, () -> KvLimits.DEFAULT.checkValue("a\ud800b"));
        assertThrows(IllegalArgumentException.class, () -> KvLimits.DEFAULT.checkKey("\udc00"));
    }
}
