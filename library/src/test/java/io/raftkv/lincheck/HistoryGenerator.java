package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Generates random key-value histories that are linearizable by construction. */
final class HistoryGenerator {

    /** One operation under construction: its interval, and the instant it takes effect, if ever. */
    private static final class Draft {
        final int client;
        final long call;
        final long ret;
        final OpKind kind;
        final String key;
        final String input;
        final String expected;
        final double point;
        String output;

        Draft(int client, long call, long ret, OpKind kind, String key, String input, String expected, double point) {
            this.client = client;
            this.call = call;
            this.ret = ret;
            this.kind = kind;
            this.key = key;
            this.input = input;
            this.expected = expected;
            this.point = point;
        }

        boolean takesEffect() {
            return !Double.isNaN(point);
        }
    }

    private HistoryGenerator() {
    }

    /**
     * A history of {@code size} operations on {@code keys} keys by {@code clients} clients, each
     * client issuing one operation at a time.
     *
     * <p>Every operation that takes effect does so at an instant strictly inside its interval, and
     * outputs come from running the model in the order of those instants; so that order is a
     * linearization, and whenever one operation returns before another is called, it is also
     * earlier in that order.
     */
    static List<Operation> linearizable(Random random, int size, int keys, int clients) {
        long[] clock = new long[clients];
        for (int c = 0; c < clients; c++) {
            clock[c] = random.nextInt(20);
        }
        List<Draft> drafts = new ArrayList<>(size);
        int written = 0;
        // The value each key was last given by a write drafted so far: what a CAS mostly expects, so that
        // some succeed (the write may not have landed yet, or been overwritten: then the CAS fails).
        Map<String, String> lastDrafted = new HashMap<>();
        for (int i = 0; i < size; i++) {
            // The client that has been idle longest goes next, so about `clients` operations overlap.
            int client = 0;
            for (int c = 1; c < clients; c++) {
                if (clock[c] < clock[client]) {
                    client = c;
                }
            }
            long call = clock[client] + random.nextInt(6);
            long duration = 1 + random.nextInt(40);
            long ret = call + duration;
            clock[client] = ret + random.nextInt(6);
            int roll = random.nextInt(100);
            OpKind kind = roll < 30 ? OpKind.PUT : roll < 70 ? OpKind.GET : roll < 80 ? OpKind.REPLACE
                    : roll < 88 ? OpKind.DELETE : OpKind.CAS;
            String key = "k" + random.nextInt(keys);
            String input = kind == OpKind.GET || kind == OpKind.DELETE ? null : "v" + written++;
            String expected = kind != OpKind.CAS ? null : random.nextInt(4) == 0 ? null : lastDrafted.get(key);
            if (input != null) {
                lastDrafted.put(key, input);
            }
            double point = call + (0.01 + 0.98 * random.nextDouble()) * duration;
            if (random.nextInt(100) < 3) {
                // The client gives up; the operation may still land, possibly long after.
                ret = Operation.PENDING;
                point = random.nextBoolean() ? Double.NaN : call + 0.5 + random.nextInt(200);
            }
            drafts.add(new Draft(client, call, ret, kind, key, input, expected, point));
        }
        List<Draft> effective = new ArrayList<>();
        for (Draft d : drafts) {
            if (d.takesEffect()) {
                effective.add(d);
            }
        }
        effective.sort(Comparator.comparingDouble(d -> d.point));
        Map<String, String> store = new HashMap<>();
        for (Draft d : effective) {
            String current = store.get(d.key);
            switch (d.kind) {
                case PUT -> {
                    store.put(d.key, d.input);
                    d.output = Operation.OK;
                }
                case GET -> d.output = current;
                case REPLACE -> {
                    if (current != null) {
                        store.put(d.key, d.input);
                    }
                    d.output = Boolean.toString(current != null);
                }
                case DELETE -> {
                    store.remove(d.key);
                    d.output = Boolean.toString(current != null);
                }
                case CAS -> {
                    boolean matches = java.util.Objects.equals(current, d.expected);
                    if (matches) {
                        store.put(d.key, d.input);
                    }
                    d.output = Boolean.toString(matches);
                }
            }
        }
        List<Operation> history = new ArrayList<>(size);
        for (Draft d : drafts) {
            history.add(new Operation(d.client, d.call, d.ret, d.kind, d.key, d.input,
                    d.ret == Operation.PENDING ? null : d.output, d.expected));
        }
        return history;
    }

    /** Returns a copy of {@code history} in which the GET at {@code index} read {@code value} instead. */
    static List<Operation> withRead(List<Operation> history, int index, String value) {
        List<Operation> copy = new ArrayList<>(history);
        Operation get = history.get(index);
        copy.set(index, Operation.get(get.clientId(), get.callTime(), get.returnTime(), get.key(), value));
        return copy;
    }

    /** The index of a random completed GET in {@code history}, or -1 if it has none. */
    static int randomCompletedGet(Random random, List<Operation> history) {
        List<Integer> gets = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            Operation op = history.get(i);
            if (op.kind() == OpKind.GET && !op.pending()) {
                gets.add(i);
            }
        }
        return gets.isEmpty() ? -1 : gets.get(random.nextInt(gets.size()));
    }
}
