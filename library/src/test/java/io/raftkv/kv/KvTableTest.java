package io.raftkv.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The state machine's map of byte slices: it answers as a HashMap of Strings does, through growth, overwrites
 * and removals.
 */
class KvTableTest {
    /** Keys are "k" and a number below this, one in twenty with an "é" after: at most twice this many. */
    private static final int KEYS = 3_000;

    /**
     * Three tables driven by the same seed: one grown from empty, one presized for every key (as a snapshot
     * being read sizes it: it never grows), one presized too small. Each run takes every path, so whether a
     * run checks growth does not depend on its seed. One step in six removes a key: every later lookup
     * of a key whose probe run passed through the removed slot checks that the run was mended behind it.
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
            switch (random.nextInt(6)) {
                case 0 -> {
                    table.put(command, 3, k.length, command, 3 + k.length + 2, v.length);
                    model.put(key, value);
                }
                case 1 -> assertEquals(model.putIfAbsent(key, value) == null,
                        table.putIfAbsent(command, 3, k.length, command, 3 + k.length + 2, v.length), where);
                case 2 -> assertEquals(model.remove(key) != null, table.remove(command, 3, k.length), where);
                case 3 -> {
                    // Expect the value the key holds (or another, or absence), held in an array of its own.
                    String current = model.get(key);
                    String expected = random.nextBoolean() ? current : random.nextBoolean() ? null : "v" + random.nextInt(4);
                    byte[] e = expected == null ? null : ("xx" + expected).getBytes(StandardCharsets.UTF_8);
                    boolean set = java.util.Objects.equals(current, expected);
                    if (set) model.put(key, value);
                    assertEquals(set, table.compareAndPut(command, 3, k.length, e, 2, e == null ? 0 : e.length - 2,
                            command, 3 + k.length + 2, v.length), where);
                }
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
     * A full small table (12 keys in 16 slots: long probe runs, some wrapping past the last slot) emptied one
     * key at a time in every one of many orders: after each removal every key left is still found and the
     * removed one is not, and the emptied table takes the keys back. A removal that left a hole in a probe
     * run would lose a key behind it; one that moved a key out of its run would lose that key.
     */
    @Test
    void removingKeysOneByOneFromAFullTableLosesNoOther() {
        long seed = Long.getLong("kvtable.seed", System.nanoTime());
        System.out.println("KvTableTest removal seed " + seed + " (replay with -Dkvtable.seed=" + seed + ")");
        Random random = new Random(seed);
        for (int round = 0; round < 500; round++) {
            KvTable table = new KvTable();
            java.util.List<String> keys = new java.util.ArrayList<>();
            for (int i = 0; i < 12; i++) keys.add("r" + round + "-" + i);
            for (String k : keys) put(table, k, "v" + k);
            java.util.Collections.shuffle(keys, random);
            for (int i = 0; i < keys.size(); i++) {
                byte[] gone = keys.get(i).getBytes(StandardCharsets.UTF_8);
                assertEquals(true, table.remove(gone, 0, gone.length), "seed " + seed);
                assertEquals(false, table.remove(gone, 0, gone.length), "seed " + seed);
                assertNull(table.get(keys.get(i)), "seed " + seed);
                for (String left : keys.subList(i + 1, keys.size())) assertEquals("v" + left, table.get(left), "seed " + seed);
                assertEquals(keys.size() - i - 1, table.size());
            }
            for (String k : keys) put(table, k, "again");
            for (String k : keys) assertEquals("again", table.get(k), "seed " + seed);
        }
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
