package io.raftkv.lincheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The linearizability search over one key's operations, after Porcupine's {@code checkSingle}.
 *
 * <p>Call and return entries sit in one time-ordered doubly linked list. Linearizing an operation
 * lifts its two entries out of the list; backtracking unlifts them. The search may only pick a
 * call that precedes the first remaining return, and a state already seen (the linearized set and
 * the value it leaves) is never explored twice.
 *
 * <p>Pending operations get three refinements Porcupine lacks. Each stays eligible from its call
 * to the end of the history, so a naive search tries every subset of them at every point, which
 * is exponential in their number once a history is broken. Instead the search tries completed
 * operations before pending ones, stops as soon as only pending operations remain (they fit in
 * any order), and places a pending operation only right before one that sees its effect (see
 * {@link #restrictionAfterPending}). Any linearization can be rearranged into that form by moving
 * each pending operation whose effect nobody sees to the end, where it is always allowed.
 */
final class KeySearch {

    /** The model state of an absent key; present values are numbered from 1. */
    private static final int ABSENT = 0;
    /** What {@link #step} returns when an operation cannot happen in a state. */
    private static final int REJECT = -1;

    private static final byte PUT = 0;
    private static final byte GET = 1;
    private static final byte REPLACE = 2;

    private static final int REPLACE_FALSE = 0;
    private static final int REPLACE_TRUE = 1;
    private static final int REPLACE_UNKNOWN = 2;

    /** What a just-linearized pending operation forbids to come next: both, or just the first. */
    private static final int FORBID_PUT = 1;
    private static final int FORBID_REPLACE = 2;

    /** How many operations of the longest prefix a failure report lists. */
    private static final int PREFIX_SHOWN = 20;

    private final String key;
    private final List<Operation> ops;
    private final int unseen;
    private final int n;

    // The model, compiled: values become small ints so a step is a few comparisons.
    private final byte[] kind;
    private final int[] input;
    private final int[] output;
    private final List<String> values = new ArrayList<>();

    private final boolean[] pending;
    private final int pendingCount;

    // Entries 2i (call) and 2i+1 (return) belong to operation i; entry 2n is the list head.
    private final int[] next;
    private final int[] prev;
    private final int head;

    // The deepest dead end the search reached, for the failure report.
    private int[] longest = new int[0];
    private int longestDepth = -1;
    private int[] stuck = new int[0];
    private int stuckReturn = -1;

    KeySearch(String key, List<Operation> keyHistory) {
        this.key = key;
        this.ops = withoutUnseenPendingWrites(keyHistory);
        this.unseen = keyHistory.size() - ops.size();
        this.n = this.ops.size();
        this.kind = new byte[n];
        this.input = new int[n];
        this.output = new int[n];
        compileModel();
        this.pending = new boolean[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            pending[i] = ops.get(i).pending();
            count += pending[i] ? 1 : 0;
        }
        this.pendingCount = count;
        this.head = 2 * n;
        this.next = new int[2 * n + 1];
        this.prev = new int[2 * n + 1];
        linkByTime();
    }

    /**
     * Leaves out each pending write that no operation could observe right after it: no completed
     * GET reads its value, and for a PUT no REPLACE could find the key present because of it. The
     * search would only ever place such a write at the end, which is the same as never.
     */
    private static List<Operation> withoutUnseenPendingWrites(List<Operation> ops) {
        Map<String, Long> lastRead = new HashMap<>();
        long lastPresenceCheck = Long.MIN_VALUE;
        boolean anyPending = false;
        for (Operation op : ops) {
            anyPending |= op.pending();
            if (op.kind() == OpKind.GET && !op.pending() && op.output() != null) {
                lastRead.merge(op.output(), op.returnTime(), Math::max);
            } else if (op.kind() == OpKind.REPLACE && (op.pending() || "true".equals(op.output()))) {
                lastPresenceCheck = Math.max(lastPresenceCheck, op.returnTime());
            }
        }
        if (!anyPending) {
            return ops;
        }
        List<Operation> kept = new ArrayList<>(ops.size());
        for (Operation op : ops) {
            // An observer must not have returned before the write was called.
            boolean seen = !op.pending()
                    || lastRead.getOrDefault(op.input(), Long.MIN_VALUE) >= op.callTime()
                    || (op.kind() == OpKind.PUT && lastPresenceCheck >= op.callTime());
            if (seen) {
                kept.add(op);
            }
        }
        return kept;
    }

    private void compileModel() {
        Map<String, Integer> ids = new HashMap<>();
        values.add(null);
        for (int i = 0; i < n; i++) {
            Operation op = ops.get(i);
            switch (op.kind()) {
                case PUT -> {
                    kind[i] = PUT;
                    input[i] = valueId(op.input(), ids);
                }
                case GET -> {
                    kind[i] = GET;
                    output[i] = op.output() == null ? ABSENT : valueId(op.output(), ids);
                }
                case REPLACE -> {
                    kind[i] = REPLACE;
                    input[i] = valueId(op.input(), ids);
                    output[i] = op.pending() ? REPLACE_UNKNOWN
                            : "true".equals(op.output()) ? REPLACE_TRUE : REPLACE_FALSE;
                }
            }
        }
    }

    private int valueId(String value, Map<String, Integer> ids) {
        Integer id = ids.get(value);
        if (id == null) {
            id = values.size();
            ids.put(value, id);
            values.add(value);
        }
        return id;
    }

    private void linkByTime() {
        Integer[] order = new Integer[2 * n];
        for (int e = 0; e < 2 * n; e++) {
            order[e] = e;
        }
        // Calls before returns at equal times, so touching intervals count as concurrent;
        // a pending operation's return, at Long.MAX_VALUE, sorts after every real event.
        Arrays.sort(order, Comparator.<Integer>comparingLong(this::time).thenComparingInt(e -> e & 1));
        int last = head;
        for (int e : order) {
            next[last] = e;
            prev[e] = last;
            last = e;
        }
        next[last] = -1;
    }

    private long time(int entry) {
        Operation op = ops.get(entry >> 1);
        return (entry & 1) == 0 ? op.callTime() : op.returnTime();
    }

    /** The value after operation {@code op} runs in {@code state}, or {@link #REJECT} if its output rules that out. */
    private int step(int state, int op) {
        return switch (kind[op]) {
            case PUT -> input[op];
            case GET -> state == output[op] ? state : REJECT;
            default -> switch (output[op]) {
                case REPLACE_TRUE -> state != ABSENT ? input[op] : REJECT;
                case REPLACE_FALSE -> state == ABSENT ? ABSENT : REJECT;
                default -> state == ABSENT ? ABSENT : input[op];
            };
        };
    }

    CheckResult run(long maxSteps) {
        int words = (n + 63) >>> 6;
        long[] linearized = new long[words];
        Set<CacheKey> cache = new HashSet<>();
        int[] stackOp = new int[n];
        int[] stackState = new int[n];
        int depth = 0;
        int state = ABSENT;
        int completedLeft = n - pendingCount;
        int restriction = 0;
        long steps = 0;
        // Pass 0 tries completed operations, pass 1 pending ones: a pending operation can always be
        // put off to the end, so trying it early mostly multiplies the states explored.
        int pass = 0;
        int entry = next[head];
        while (completedLeft > 0) {
            if (++steps > maxSteps) {
                return giveUp(steps - 1, depth);
            }
            if ((entry & 1) == 0) {
                int op = entry >> 1;
                if (pending[op] != (pass == 1) || (restriction & forbids(op)) != 0) {
                    entry = next[entry];
                    continue;
                }
                int after = step(state, op);
                // A pending operation that changes nothing can wait until the end.
                if (after != REJECT && !(pending[op] && after == state)) {
                    int restrictionAfter = pending[op] ? restrictionAfterPending(state, after) : 0;
                    linearized[op >>> 6] |= 1L << op;
                    // The restriction is part of the state: a restricted state failing proves
                    // nothing about the same state unrestricted.
                    if (cache.add(new CacheKey(linearized.clone(), after * 4 + restrictionAfter))) {
                        stackOp[depth] = op;
                        stackState[depth] = state;
                        depth++;
                        state = after;
                        restriction = restrictionAfter;
                        if (!pending[op]) {
                            completedLeft--;
                        }
                        lift(entry);
                        pass = 0;
                        entry = next[head];
                        continue;
                    }
                    linearized[op >>> 6] &= ~(1L << op);
                }
                entry = next[entry];
            } else if (pass == 0) {
                pass = 1;
                entry = next[head];
            } else {
                // The first remaining return: every call before it has failed to go next.
                if (depth > longestDepth) {
                    remember(stackOp, depth, entry);
                }
                if (depth == 0) {
                    return new CheckResult(CheckResult.Verdict.NOT_LINEARIZABLE, key, explain());
                }
                depth--;
                int op = stackOp[depth];
                state = stackState[depth];
                linearized[op >>> 6] &= ~(1L << op);
                if (!pending[op]) {
                    completedLeft++;
                }
                restriction = depth > 0 && pending[stackOp[depth - 1]]
                        ? restrictionAfterPending(stackState[depth - 1], state) : 0;
                entry = 2 * op;
                unlift(entry);
                entry = next[entry];
                pass = pending[op] ? 1 : 0;
            }
        }
        // Only pending operations are left, and they can go in any order.
        return new CheckResult(CheckResult.Verdict.LINEARIZABLE, key,
                "key " + HistoryJson.quote(key) + ": linearizable (" + operations(n) + ", " + steps + " search steps)");
    }

    private int forbids(int op) {
        return kind[op] == PUT ? FORBID_PUT : kind[op] == REPLACE ? FORBID_REPLACE : 0;
    }

    /**
     * What may come right after a pending operation took the key from {@code before} to {@code after}.
     *
     * <p>If the next operation would act the same had the pending one not happened yet, the pending
     * one could move to the very end instead; the search only tries orders where it cannot, so a
     * pending operation must be followed by one that sees its effect: a GET of its value, or a
     * REPLACE if it changed whether the key is present.
     */
    private static int restrictionAfterPending(int before, int after) {
        return FORBID_PUT | ((before == ABSENT) == (after == ABSENT) ? FORBID_REPLACE : 0);
    }

    private void lift(int call) {
        int ret = call + 1;
        next[prev[call]] = next[call];
        prev[next[call]] = prev[call];
        next[prev[ret]] = next[ret];
        if (next[ret] != -1) {
            prev[next[ret]] = prev[ret];
        }
    }

    private void unlift(int call) {
        int ret = call + 1;
        next[prev[ret]] = ret;
        if (next[ret] != -1) {
            prev[next[ret]] = ret;
        }
        next[prev[call]] = call;
        prev[next[call]] = call;
    }

    private void remember(int[] stackOp, int depth, int firstReturn) {
        longestDepth = depth;
        longest = Arrays.copyOf(stackOp, depth);
        int count = 0;
        for (int e = next[head]; e != firstReturn; e = next[e]) {
            count++;
        }
        stuck = new int[count];
        count = 0;
        for (int e = next[head]; e != firstReturn; e = next[e]) {
            stuck[count++] = e >> 1;
        }
        stuckReturn = firstReturn >> 1;
    }

    private String explain() {
        StringBuilder b = new StringBuilder();
        b.append("key ").append(HistoryJson.quote(key)).append(" is not linearizable: no order of its ")
                .append(operations(n)).append(" respects both real time and the key-value model")
                .append(unseen == 0 ? "" : " (" + unseen + " pending writes nobody could have seen left out)")
                .append(".\n");
        b.append("Longest linearizable prefix found: ").append(longestDepth).append(" of ").append(operations(n));
        int from = Math.max(0, longestDepth - PREFIX_SHOWN);
        b.append(from > 0 ? " (the first " + from + " not shown):\n" : longestDepth == 0 ? ".\n" : ":\n");
        int state = ABSENT;
        for (int i = 0; i < longestDepth; i++) {
            state = step(state, longest[i]);
            if (i >= from) {
                b.append(String.format(Locale.ROOT, "  %4d. ", i + 1)).append(ops.get(longest[i])).append('\n');
            }
        }
        b.append(longestDepth == 0 ? "Initially " : "After it ").append(describeState(state)).append(".\n");
        // Completed operations remain at every dead end, so the first return is a real one.
        Operation blocker = ops.get(stuckReturn);
        b.append("The next operation to return is client ").append(blocker.clientId()).append("'s at ")
                .append(blocker.returnTime()).append(", so one of these must come next, and none can:\n");
        for (int op : stuck) {
            b.append("        ").append(ops.get(op)).append("\n          ")
                    .append(step(state, op) == REJECT ? whyRejected(state, op)
                            : "fits here, but no order of the remaining operations works after it")
                    .append('\n');
        }
        return b.toString();
    }

    private static String operations(int count) {
        return count == 1 ? "1 operation" : count + " operations";
    }

    private String whyRejected(int state, int op) {
        String actual = describeState(state);
        return switch (kind[op]) {
            case GET -> "cannot: it " + (output[op] == ABSENT ? "found the key absent"
                    : "read " + HistoryJson.quote(values.get(output[op]))) + ", but " + actual;
            case REPLACE -> "cannot: it returned " + (output[op] == REPLACE_TRUE ? "true" : "false") + ", but " + actual;
            default -> "cannot happen here";
        };
    }

    private String describeState(int state) {
        return state == ABSENT ? "the key is absent" : "the value is " + HistoryJson.quote(values.get(state));
    }

    private CheckResult giveUp(long steps, int depth) {
        return new CheckResult(CheckResult.Verdict.UNKNOWN, key, "key " + HistoryJson.quote(key)
                + ": gave up after " + steps + " search steps without a verdict (" + n
                + " operations; linearized prefix at the time: " + depth + ", longest dead end: "
                + Math.max(longestDepth, 0) + "); raise maxSearchSteps or shorten the history");
    }

    /** One memoized search state: which operations are linearized, and the value and restriction they leave. */
    private static final class CacheKey {
        private final long[] linearized;
        private final int state;
        private final int hash;

        CacheKey(long[] linearized, int state) {
            this.linearized = linearized;
            this.state = state;
            this.hash = 31 * Arrays.hashCode(linearized) + state;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CacheKey other && other.hash == hash && other.state == state
                    && Arrays.equals(other.linearized, linearized);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
