package io.raftkv.sim;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The simulated key-value state machine: the keys and each client's session (its last sequence number
 * applied and that write's answer), which together are what a snapshot holds.
 */
final class SimStateMachine {
    private final Map<String, String> kv;
    private final Map<Integer, Long> sessionSeq;
    private final Map<Integer, String> sessionResult;

    SimStateMachine() {
        this(new HashMap<>(), new HashMap<>(), new HashMap<>());
    }

    private SimStateMachine(Map<String, String> kv, Map<Integer, Long> sessionSeq, Map<Integer, String> sessionResult) {
        this.kv = kv;
        this.sessionSeq = sessionSeq;
        this.sessionResult = sessionResult;
    }

    /** A copy that later applies to this one do not change: what a snapshot keeps. */
    SimStateMachine copy() {
        return new SimStateMachine(new HashMap<>(kv), new HashMap<>(sessionSeq), new HashMap<>(sessionResult));
    }

    String get(String key) {
        return kv.get(key);
    }

    /** The sequence number of the client's last write applied, 0 if none. */
    long lastSeq(int client) {
        return sessionSeq.getOrDefault(client, 0L);
    }

    String lastResult(int client) {
        return sessionResult.get(client);
    }

    /**
     * Applies a write at most once per (client, sequence): returns its answer, the first answer again for a
     * retry of the client's last write, or null for an older write of a client that has moved on.
     */
    String apply(SimCommand c) {
        long last = lastSeq(c.clientId());
        if (c.seq() == last) return sessionResult.get(c.clientId());
        if (c.seq() < last) return null;
        String result = switch (c.kind()) {
            case PUT -> {
                kv.put(c.key(), c.value());
                yield "ok";
            }
            case REPLACE -> {
                boolean present = kv.containsKey(c.key());
                if (present) kv.put(c.key(), c.value());
                yield Boolean.toString(present);
            }
            case DELETE -> Boolean.toString(kv.remove(c.key()) != null);
            case CAS -> {
                boolean matches = Objects.equals(kv.get(c.key()), c.expected());
                if (matches) kv.put(c.key(), c.value());
                yield Boolean.toString(matches);
            }
            case GET -> throw new IllegalStateException("GET is never written to the log");
        };
        sessionSeq.put(c.clientId(), c.seq());
        sessionResult.put(c.clientId(), result);
        return result;
    }

    /** A hash of the whole state, cheap enough to take at every index of a run. */
    long fingerprint() {
        long h = 0;
        for (Map.Entry<String, String> e : kv.entrySet()) h += mix(e.getKey().hashCode() * 31L + e.getValue().hashCode());
        for (Map.Entry<Integer, Long> e : sessionSeq.entrySet()) {
            h += mix(0x5E55L + e.getKey() * 0x9E3779B97F4A7C15L + e.getValue() * 31 + Objects.hashCode(sessionResult.get(e.getKey())));
        }
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SimStateMachine s && s.kv.equals(kv) && s.sessionSeq.equals(sessionSeq)
                && s.sessionResult.equals(sessionResult);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kv, sessionSeq, sessionResult);
    }

    /** Sorted, so that two equal states print alike. */
    @Override
    public String toString() {
        return "kv " + new TreeMap<>(kv) + " sessions " + new TreeMap<>(sessionSeq) + " answers " + new TreeMap<>(sessionResult);
    }
}
