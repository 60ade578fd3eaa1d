package io.raftkv.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** On small random histories the checker must agree with trying every order. */
class BruteForceAgreementTest {

    @Test
    void theCheckerAgreesWithExhaustiveSearchOnSmallHistories() {
        String fixed = System.getProperty("lincheck.seed", "");
        long seed = fixed.isBlank() ? new Random().nextLong() : Long.parseLong(fixed.trim());
        System.out.println("BruteForceAgreementTest: -Dlincheck.seed=" + seed);
        Random random = new Random(seed);
        int[] verdicts = new int[2];
        for (int i = 0; i < 20_000; i++) {
            List<Operation> history = randomHistory(random);
            boolean expected = linearizableByBruteForce(history);
            CheckResult result = LinearizabilityChecker.check(history);
            assertEquals(expected ? CheckResult.Verdict.LINEARIZABLE : CheckResult.Verdict.NOT_LINEARIZABLE,
                    result.verdict(), "seed " + seed + ", history " + i + ":\n" + HistoryJson.toJson(history)
                            + result.explanation());
            verdicts[expected ? 0 : 1]++;
        }
        System.out.println("BruteForceAgreementTest: " + verdicts[0] + " linearizable, "
                + verdicts[1] + " not, all agreed");
    }

    /** Up to 8 operations of every kind on one or two keys, with outputs drawn at random, so often wrong. */
    private static List<Operation> randomHistory(Random random) {
        int size = 1 + random.nextInt(8);
        int keys = 1 + random.nextInt(2);
        List<Operation> history = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            long call = random.nextInt(20);
            long ret = random.nextInt(5) == 0 ? Operation.PENDING : call + random.nextInt(8);
            String key = "k" + random.nextInt(keys);
            String value = "v" + random.nextInt(4);
            OpKind kind = OpKind.values()[random.nextInt(OpKind.values().length)];
            String read = random.nextInt(4) == 0 ? null : "v" + random.nextInt(5);
            String answer = ret == Operation.PENDING ? null : Boolean.toString(random.nextBoolean());
            history.add(switch (kind) {
                case PUT -> new Operation(i, call, ret, kind, key, value, ret == Operation.PENDING ? null : "ok");
                case GET -> new Operation(i, call, ret, kind, key, null, ret == Operation.PENDING ? null : read);
                case REPLACE -> new Operation(i, call, ret, kind, key, value, answer);
                case DELETE -> new Operation(i, call, ret, kind, key, null, answer);
                case CAS -> new Operation(i, call, ret, kind, key, value, answer, read); // expects absence a quarter of the time
            });
        }
        return history;
    }

    /**
     * Tries every order of every subset of the pending operations plus all completed ones; a
     * pending operation left out is one that never took effect.
     */
    private static boolean linearizableByBruteForce(List<Operation> history) {
        return extend(history, new boolean[history.size()], new HashMap<>());
    }

    private static boolean extend(List<Operation> history, boolean[] done, Map<String, String> store) {
        boolean completedLeft = false;
        for (int i = 0; i < history.size(); i++) {
            if (!done[i] && !history.get(i).pending()) {
                completedLeft = true;
            }
        }
        if (!completedLeft) {
            return true;
        }
        for (int i = 0; i < history.size(); i++) {
            Operation op = history.get(i);
            if (done[i] || !mayGoNext(history, done, op)) {
                continue;
            }
            String before = store.get(op.key());
            if (!apply(op, store)) {
                continue;
            }
            done[i] = true;
            boolean found = extend(history, done, store);
            done[i] = false;
            if (before == null) {
                store.remove(op.key());
            } else {
                store.put(op.key(), before);
            }
            if (found) {
                return true;
            }
        }
        return false;
    }

    /** Whether no operation still to place returned strictly before {@code op} was called. */
    private static boolean mayGoNext(List<Operation> history, boolean[] done, Operation op) {
        for (int j = 0; j < history.size(); j++) {
            if (!done[j] && history.get(j).returnTime() < op.callTime()) {
                return false;
            }
        }
        return true;
    }

    private static boolean apply(Operation op, Map<String, String> store) {
        String current = store.get(op.key());
        switch (op.kind()) {
            case PUT -> store.put(op.key(), op.input());
            case GET -> {
                return op.pending() || Objects.equals(current, op.output());
            }
            case REPLACE -> {
                if (!op.pending() && Boolean.parseBoolean(op.output()) != (current != null)) {
                    return false;
                }
                if (current != null) {
                    store.put(op.key(), op.input());
                }
            }
            case DELETE -> {
                if (!op.pending() && Boolean.parseBoolean(op.output()) != (current != null)) {
                    return false;
                }
                store.remove(op.key());
            }
            case CAS -> {
                boolean matches = Objects.equals(current, op.expected());
                if (!op.pending() && Boolean.parseBoolean(op.output()) != matches) {
                    return false;
                }
                if (matches) {
                    store.put(op.key(), op.input());
                }
            }
        }
        return true;
    }
}
