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
 * {@link #forbiddenAfterPending}). Any linearization can be rearranged into that form: a pending
 * operation whose effect the next one overwrites is dropped (it never took effect), and one followed
 * by a completed operation that neither sees nor changes its effect moves past it, towards the end,
 * where it is always allowed.
 */
final class KeySearch {

    /** The model state of an absent key; present values are numbered from 1. */
    private static final int ABSENT = 0;
    /** What {@link #step} returns when an operation cannot happen in a state. */
    private static final int REJECT = -1;

    private static final byte PUT = 0;
    private static final byte GET = 1;
    private static final byte REPLACE = 2;
    private static final byte DELETE = 3;
    private static final byte CAS = 4;

    /** The output of a REPLACE, DELETE or CAS: whether it took effect, or unknown (pending). */
    private static final int FALSE = 0;
    private static final int TRUE = 1;
    private static final int UNKNOWN = 2;

    /** The restriction of a state not right after a pending operation: none. */
    private static final int UNRESTRICTED = -1;

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
    /** A CAS's expected value (ABSENT: it expects the key absent). */
    private final int[] expected;
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
        // Compiled once over the whole history, then cut down to the operations that matter.
        int all = keyHistory.size();
        byte[] allKind = new byte[all];
        int[] allInput = new int[all];
        int[] allOutput = new int[all];
        int[] allExpected = new int[all];
        compileModel(keyHistory, allKind, allInput, allOutput, allExpected);
        boolean[] keep = seenPendingWrites(keyHistory, allKind, allInput, allOutput, allExpected);
        List<Operation> kept = new ArrayList<>(all);
        for (int i = 0; i < all; i++) {
            if (keep[i]) {
                kept.add(keyHistory.get(i));
            }
        }
        this.ops = kept;
        this.unseen = all - kept.size();
        this.n = kept.size();
        this.kind = new byte[n];
        this.input = new int[n];
        this.output = new int[n];
        this.expected = new int[n];
        this.pending = new boolean[n];
        int count = 0;
        for (int i = 0, j = 0; i < all; i++) {
            if (!keep[i]) {
                continue;
            }
            kind[j] = allKind[i];
            input[j] = allInput[i];
            output[j] = allOutput[i];
            expected[j] = allExpected[i];
            pending[j] = keyHistory.get(i).pending();
            count += pending[j] ? 1 : 0;
            j++;
        }
        this.pendingCount = count;
        this.head = 2 * n;
        this.next = new int[2 * n + 1];
        this.prev = new int[2 * n + 1];
        linkByTime();
    }

    /**
     * Which operations to keep: all but each pending write that no operation could observe right after it,
     * whatever the key held before it (see {@link #observes}). The search would only ever place such a write
     * at the end, which is the same as never.
     */
    private boolean[] seenPendingWrites(List<Operation> all, byte[] kinds, int[] inputs, int[] outputs, int[] expecteds) {
        int count = all.size();
        boolean[] keep = new boolean[count];
        Integer[] byReturn = null;
        // The values the key can hold: those some operation writes (it starts absent). A value no operation
        // names stands for every such value, since the model only compares values.
        int other = values.size();
        boolean[] written = new boolean[other + 1];
        int writtenCount = 0;
        for (int i = 0; i < count; i++) {
            if (inputs[i] > 0 && !written[inputs[i]]) {
                written[inputs[i]] = true;
                writtenCount++;
            }
        }
        for (int w = 0; w < count; w++) {
            Operation write = all.get(w);
            if (!write.pending()) {
                keep[w] = true;
                continue;
            }
            if (byReturn == null) {
                byReturn = new Integer[count];
                for (int i = 0; i < count; i++) {
                    byReturn[i] = i;
                }
                // Latest return first: an observer must not have returned before the write was called.
                Arrays.sort(byReturn, Comparator.<Integer>comparingLong(i -> all.get(i).returnTime()).reversed());
            }
            for (int q : byReturn) {
                if (all.get(q).returnTime() < write.callTime()) {
                    break;
                }
                if (q != w && observes(q, w, other, written, writtenCount, kinds, inputs, outputs, expecteds, all)) {
                    keep[w] = true;
                    break;
                }
            }
        }
        return keep;
    }

    /**
     * Whether operation {@code q}, right after the pending operation {@code w}, could see its effect for some
     * value the key held before {@code w}: that value ranges over absence, the values the two name that some
     * operation writes, and {@code other}, which stands for any other written value (if there is one).
     */
    private static boolean observes(int q, int w, int other, boolean[] written, int writtenCount, byte[] kinds,
                                    int[] inputs, int[] outputs, int[] expecteds, List<Operation> all) {
        int[] candidates = {ABSENT, inputs[w], expecteds[w], inputs[q], expecteds[q], kinds[q] == GET ? outputs[q] : -1, other};
        int named = 0;
        for (int i = 1; i < candidates.length - 1; i++) {
            int c = candidates[i];
            boolean repeat = false;
            for (int j = 1; j < i; j++) {
                repeat |= candidates[j] == c;
            }
            if (c > 0 && written[c] && !repeat) {
                named++;
            } else {
                candidates[i] = -1; // not a value the key can hold, or tried already
            }
        }
        if (named == writtenCount) {
            candidates[candidates.length - 1] = -1; // every written value is named: there is no other
        }
        boolean qPending = all.get(q).pending();
        for (int before : candidates) {
            if (before < 0) {
                continue;
            }
            int after = step(before, w, kinds, inputs, outputs, expecteds);
            if (after == before) {
                continue; // it changed nothing: no effect to see
            }
            int next = step(after, q, kinds, inputs, outputs, expecteds);
            // A pending operation that would change nothing is never placed (it can wait until the end).
            if (next != REJECT && !(qPending && next == after)
                    && !forbidden(before, after, q, qPending, kinds, inputs, outputs, expecteds)) {
                return true;
            }
        }
        return false;
    }

    /** Interns every value the operations name, and fills in each operation's kind, input, output and expected value. */
    private void compileModel(List<Operation> all, byte[] kinds, int[] inputs, int[] outputs, int[] expecteds) {
        Map<String, Integer> ids = new HashMap<>();
        values.add(null);
        for (int i = 0; i < all.size(); i++) {
            Operation op = all.get(i);
            // Unused fields stay -1, which no state is.
            inputs[i] = -1;
            outputs[i] = -1;
            expecteds[i] = -1;
            int answer = op.pending() ? UNKNOWN : "true".equals(op.output()) ? TRUE : FALSE;
            switch (op.kind()) {
                case PUT -> {
                    kinds[i] = PUT;
                    inputs[i] = valueId(op.input(), ids);
                }
                case GET -> {
                    kinds[i] = GET;
                    outputs[i] = op.output() == null ? ABSENT : valueId(op.output(), ids);
                }
                case REPLACE -> {
                    kinds[i] = REPLACE;
                    inputs[i] = valueId(op.input(), ids);
                    outputs[i] = answer;
                }
                case DELETE -> {
                    kinds[i] = DELETE;
                    outputs[i] = answer;
                }
                case CAS -> {
                    kinds[i] = CAS;
                    inputs[i] = valueId(op.input(), ids);
                    expecteds[i] = op.expected() == null ? ABSENT : valueId(op.expected(), ids);
                    outputs[i] = answer;
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
        return step(state, op, kind, input, output, expected);
    }

    private static int step(int state, int op, byte[] kind, int[] input, int[] output, int[] expected) {
        int answer = output[op];
        return switch (kind[op]) {
            case PUT -> input[op];
            case GET -> state == answer ? state : REJECT;
            case REPLACE -> switch (answer) {
                case TRUE -> state != ABSENT ? input[op] : REJECT;
                case FALSE -> state == ABSENT ? ABSENT : REJECT;
                default -> state == ABSENT ? ABSENT : input[op];
            };
            case DELETE -> switch (answer) {
                case TRUE -> state != ABSENT ? ABSENT : REJECT;
                case FALSE -> state == ABSENT ? ABSENT : REJECT;
                default -> ABSENT;
            };
            default -> switch (answer) { // CAS
                case TRUE -> state == expected[op] ? input[op] : REJECT;
                case FALSE -> state != expected[op] ? state : REJECT;
                default -> state == expected[op] ? input[op] : state;
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
        // What the key held before the pending operation just linearized, or UNRESTRICTED.
        int restriction = UNRESTRICTED;
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
                if (pending[op] != (pass == 1)
                        || (restriction != UNRESTRICTED && forbiddenAfterPending(restriction, state, op))) {
                    entry = next[entry];
                    continue;
                }
                int after = step(state, op);
                // A pending operation that changes nothing can wait until the end.
                if (after != REJECT && !(pending[op] && after == state)) {
                    int restrictionAfter = pending[op] ? state : UNRESTRICTED;
                    linearized[op >>> 6] |= 1L << op;
                    // The restriction is part of the state: a restricted state failing proves
                    // nothing about the same state unrestricted.
                    if (cache.add(new CacheKey(linearized.clone(), after, restrictionAfter))) {
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
                restriction = depth > 0 && pending[stackOp[depth - 1]] ? stackState[depth - 1] : UNRESTRICTED;
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

    /** Whether {@code op} may not come right after a pending operation that took the key from {@code before} to {@code after}. */
    private boolean forbiddenAfterPending(int before, int after, int op) {
        return forbidden(before, after, op, pending[op], kind, input, output, expected);
    }

    /**
     * Whether operation {@code q} may not come right after a pending operation that took the key from
     * {@code before} to {@code after}: the search only tries orders where the pending operation could not be
     * moved out of the way, so a pending operation must be followed by one that sees its effect.
     *
     * <p>It could be moved if {@code q} would end in the same value had the pending one not happened yet
     * (a PUT, a DELETE, a REPLACE that keeps the key present): the pending one is then overwritten, and may as
     * well never have taken effect. It could also be moved if {@code q} is completed and, run before it,
     * would change nothing and still be allowed (a CAS that fails both ways): the pending one then moves
     * past {@code q}, towards the end. (Two pending operations are never swapped: they could swap back.)
     */
    private static boolean forbidden(int before, int after, int q, boolean qPending, byte[] kind, int[] input, int[] output,
                                     int[] expected) {
        int withoutIt = step(before, q, kind, input, output, expected);
        if (withoutIt == REJECT) {
            return false;
        }
        int withIt = step(after, q, kind, input, output, expected);
        return withoutIt == withIt || (!qPending && withoutIt == before && withIt == after);
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
            case REPLACE, DELETE -> "cannot: it returned " + (output[op] == TRUE ? "true" : "false") + ", but " + actual;
            case CAS -> "cannot: it returned " + (output[op] == TRUE ? "true" : "false") + " expecting "
                    + (expected[op] == ABSENT ? "the key absent" : HistoryJson.quote(values.get(expected[op]))) + ", but " + actual;
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
        private final int restriction;
        private final int hash;

        CacheKey(long[] linearized, int state, int restriction) {
            this.linearized = linearized;
            this.state = state;
            this.restriction = restriction;
            this.hash = 31 * (31 * Arrays.hashCode(linearized) + state) + restriction;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CacheKey other && other.hash == hash && other.state == state
                    && other.restriction == restriction && Arrays.equals(other.linearized, linearized);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
