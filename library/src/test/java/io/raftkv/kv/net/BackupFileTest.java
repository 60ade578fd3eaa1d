package io.raftkv.kv.net;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The backup file's format: what it holds, and the clear refusals of what is not a whole, sound backup. */
class BackupFileTest {
    private static final BackupFile SAMPLE = new BackupFile("orders", 42, 3, new byte[] {1, 2, 3, 4, 5});

    @Test
    void itRoundTripsWithItsHeaderAndCrc() {
        byte[] bytes = SAMPLE.encode();
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertEquals(0x524B5642, b.getInt(), "RKVB");
        assertEquals(1, b.get(), "version 1");
        assertEquals(6, b.getShort());
        assertEquals(SAMPLE, BackupFile.decode(bytes, "f"));
        assertEquals("index 42 (term 3) of cluster 'orders', 5 bytes of state", SAMPLE.describe());
    }

    @Test
    void anythingButAWholeSoundBackupIsRefusedSayingWhy() {
        byte[] bytes = SAMPLE.encode();
        assertEquals("f is not a raftkv backup (it does not start with \"RKVB\")",
                refusal(new byte[] {'P', 'K', 3, 4, 5, 6}));
        assertEquals("f is cut short (" + (bytes.length - 1) + " bytes): not a whole backup",
                refusal(Arrays.copyOf(bytes, bytes.length - 1)));
        byte[] version = bytes.clone();
        version[4] = 2;
        assertEquals("f is a backup of format version 2; this build reads version 1 only", refusal(version));
        for (int i = 7; i < bytes.length; i++) {
            byte[] flipped = bytes.clone();
            flipped[i] ^= 1;
            String why = refusal(flipped);
            assertEquals(true, why.startsWith("f is damaged") || why.startsWith("f is cut short"), i + ": " + why);
        }
    }

    private static String refusal(byte[] bytes) {
        return assertThrows(IllegalArgumentException.class, () -> BackupFile.decode(bytes, "f")).getMessage();
    }
}
