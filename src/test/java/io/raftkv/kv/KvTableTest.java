package io.raftkv.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The state machine's map of byte slices: it answers as a HashMap of Strings does, through growth and overwrites. */
class KvTableTest {

    @Test
    void answersAsAHashMapDoes() {
        long seed = Long.getLong("kvtable.seed", System.nanoTime());
        System.out.println("KvTableTest seed " + seed + " (replay with -Dkvtable.seed=" + seed + ")");
        Random random = new Random(seed);
        // Some tables presized (as a snapshot being read makes them), most grown from empty.
        KvTable table = random.nextInt(4) == 0 ? new KvTable(random.nextInt(5_000)) : new KvTable();
        Map<String, String> model = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            String key = "k" + random.nextInt(3_000) + (random.nextInt(20) == 0 ? "é" : "");
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
                        table.putIfAbsent(command, 3, k.length, command, 3 + k.length + 2, v.length), "seed " + seed);
                default -> { }
            }
            assertEquals(model.containsKey(key), table.containsKey(command, 3, k.length), "seed " + seed);
            assertEquals(model.get(key), table.get(key), "seed " + seed);
        }
        assertEquals(model.size(), table.size(), "seed " + seed);
        Map<String, String> seen = new HashMap<>();
        for (byte[] k : table.keys()) {
            int slot = table.slotOf(k);
            seen.put(new String(k, StandardCharsets.UTF_8),
                    new String(table.valueArray(slot), table.valueOffset(slot), table.valueLength(slot), StandardCharsets.UTF_8));
        }
        assertEquals(model, seen, "seed " + seed);
        assertNull(table.get("no such key"));
    }
}
