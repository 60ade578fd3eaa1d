package io.raftkv.kv;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The word-at-a-time byte scans of {@link KvCommand} against a byte-by-byte look, at every length up to three
 * words, every position and every offset, with the bytes around the one looked for chosen to provoke the
 * borrows and carries a word trick can get wrong.
 */
class KvCommandBytesTest {
    private static final int MAX = 26;
    private static final byte[] TARGETS = {0, 1, '?', 0x7F, (byte) 0x80, (byte) 0xFE, (byte) 0xFF};

    @Test
    void containsFindsTheByteWhereverItIsAndNowhereElse() {
        for (byte x : TARGETS) {
            for (byte fill : new byte[] {(byte) (x - 1), (byte) (x + 1), (byte) (x ^ 0x80), (byte) (x ^ 0x01), 0, (byte) 0xFF}) {
                if (fill == x) continue;
                for (int len = 0; len <= MAX; len++) {
                    for (int at = -1; at < len; at++) {
                        byte[] b = new byte[len];
                        Arrays.fill(b, fill);
                        if (at >= 0) b[at] = x;
                        assertEquals(at >= 0, KvCommand.contains(b, x),
                                "looking for " + x + " in " + Arrays.toString(b));
                    }
                }
            }
        }
    }

    @Test
    void isAsciiSeesEveryHighByteInItsRangeAndNoneOutside() {
        for (int len = 0; len <= MAX; len++) {
            for (int from = 0; from <= Math.min(3, len); from++) {
                for (int n = 0; from + n <= len; n++) {
                    for (int high = -1; high < len; high++) {
                        for (byte h : new byte[] {(byte) 0x80, (byte) 0xFF, (byte) 0xC3}) {
                            byte[] b = new byte[len];
                            Arrays.fill(b, (byte) 0x7F);
                            if (high >= 0) b[high] = h;
                            boolean expected = high < from || high >= from + n;
                            assertEquals(expected, KvCommand.isAscii(b, from, n),
                                    "bytes " + from + ".." + (from + n) + " of " + Arrays.toString(b));
                        }
                    }
                }
            }
        }
    }
}
