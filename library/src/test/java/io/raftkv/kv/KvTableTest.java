package io.raftkv.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The state machine's map of byte slices: it answers as a HashMap of Strings does, through growth and overwrites. */
class KvTableTest {
    /** Keys are "k" and a number below this, one in twenty with an "é" after: at most twice this many. */
    private static final int KEYS = 3_000;

    /**
     * Three tables driven by the same seed: one grown from empty, one presized for every key (as a snapshot
     * being read sizes it: it never grows), one presized too small. Each run takes every path, so whether a
     * run checks growth does not depend on its seed.
     */
    @Test
    void answersAsAHashMapDoes() {
        long seed = Long.getLong("kvtable.seed", System.nanoTime());
        System.out.println("KvTableTest seed " + seed + " (replay with -Dkvtable.seed=" + seed + ")");
        answersAsAHashMapDoes(new KvTable(), seed, "grown from empty");
        answersAsAHashMapDoes(new KvTable(2 * KEYS), seed, "presized for every key");
        answersAsAHashMapDoes(new KvTable(new Random(seed).nextInt(KEYS / 2)), seed, "presized too small");
    }

    private static void answersAsAHashMapDoes(KvTable table, long seed, String what) {
        String where = what + ", seed " + seed;
        Random random = new Random(seed);
        Map<String, String> model = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            String key = "k" + random.nextInt(KEYS) + (random.nextInt(20) == 0 ? "é" : "");
            String value = "v" + random.nextInt();
            // A command-like array: some bytes before the key and between key and value.
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            byte[] command = new byte[3 + k.length + 2 + v.length];
            System.arraycopy(k, 0, command, 3, k.length);
            System.arraycopy(v, 0, command, 3 + k.length + 2, v.length);
            switch (random.nextInt(3)) {
                case 0 -> {
                    table.put(command, 3, k.length, command, 3 + k.length + 2, v.length);
                    model.put(key, value);
                }
                case 1 -> assertEquals(model.putIfAbsent(key, value) == null,
                        table.putIfAbsent(command, 3, k.length, command, 3 + k.length + 2, v.length), where);
                default -> { }
            }
            assertEquals(model.containsKey(key), table.containsKey(command, 3, k.length), where);
            assertEquals(model.get(key), table.get(key), where);
        }
        assertEquals(model.size(), table.size(), where);
        Map<String, String> seen = new HashMap<>();
        for (byte[] k : table.keys()) {
            int slot = table.slotOf(k);
            seen.put(new String(k, StandardCharsets.UTF_8),
                    new String(table.valueArray(slot), table.valueOffset(slot), table.valueLength(slot), StandardCharsets.UTF_8));
        }
        assertEquals(model, seen, where);
        assertNull(table.get("no such key"), where);
    }

    private static void put(KvTable table, String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        table.put(k, 0, k.length, v, 0, v.length);
    }

    /**
     * A copy (what freeze() writes a snapshot from, on another thread) shares no slots with its table: puts to
     * either, overwrites, new keys and growth included, are not seen by the other. Otherwise a snapshot being
     * written would take in writes applied after the freeze, and a follower installing it would hold a state
     * that no replica ever had at any index.
     */
    @Test
    void aCopyAndItsTableGoTheirOwnWays() {
        KvTable table = new KvTable();
        put(table, "a", "1");
        put(table, "b", "2");
        KvTable copy = table.copy();
        put(table, "a", "changed");
        put(table, "c", "3");
        for (int i = 0; i < 40; i++) put(table, "more" + i, "x"); // the table grows; the copy must not
        put(copy, "b", "the copy's");
        put(copy, "d", "4");
        assertEquals(3, copy.size());
        assertEquals("1", copy.get("a"));
        assertEquals("the copy's", copy.get("b"));
        assertNull(copy.get("c"));
        assertNull(copy.get("more0"));
        assertEquals(43, table.size());
        assertEquals("changed", table.get("a"));
        assertEquals("2", table.get("b"));
        assertNull(table.get("d"));
    }

    /**
     * slotOf is only for keys the table holds (the snapshot writer walks {@link KvTable#keys()}); asked for any
     * other it says so. Without the check it would hand back an empty slot, whose value is no array at all: a
     * writer that got its keys wrong would fail somewhere far from the cause, or write a key the map never had.
     */
    @Test
    void slotOfAKeyTheTableDoesNotHoldIsRefused() {
        KvTable table = new KvTable();
        byte[] a = "a".getBytes(StandardCharsets.UTF_8);
        table.put(a, 0, 1, "1".getBytes(StandardCharsets.UTF_8), 0, 1);
        assertEquals(1, table.valueLength(table.slotOf(a)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> table.slotOf("b".getBytes(StandardCharsets.UTF_8)));
        assertEquals("no such key", e.getMessage());
    }
}
