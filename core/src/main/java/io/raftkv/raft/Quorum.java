package io.raftkv.raft;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.function.IntToLongFunction;

/** Majority arithmetic as pure functions of the voters and what each has reported. */
public final class Quorum {
    private Quorum() {}

    /** The outcome of counting votes. */
    public enum VoteResult { WON, LOST, PENDING }

    public static int majority(int voters) {
        return voters / 2 + 1;
    }

    /** The largest index that a majority of voters have stored, given each voter's match index. */
    public static long committedIndex(Set<Integer> voters, IntToLongFunction matchIndex) {
        long[] m = new long[voters.size()];
        int i = 0;
        for (int v : voters) m[i++] = matchIndex.applyAsLong(v);
        return committedIndex(m, m.length);
    }

    /**
     * The largest index that a majority of {@code n} voters have stored, given their match indexes in
     * the first {@code n} slots of {@code matches} (which this sorts in place).
     */
    public static long committedIndex(long[] matches, int n) {
        if (n < 1 || n > matches.length) throw new IllegalArgumentException("need 1.." + matches.length + " voters, got " + n);
        Arrays.sort(matches, 0, n);
        // Ascending: the value at n - majority is held by at least a majority.
        return matches[n - majority(n)];
    }

    /** Whether the voters for which {@code yes} holds make a majority. */
    public static boolean hasMajority(Set<Integer> voters, IntPredicate yes) {
        int n = 0;
        for (int v : voters) if (yes.test(v)) n++;
        return n >= majority(voters.size());
    }

    /** Whether the votes received so far (voter id to granted) win, lose, or leave the election open. */
    public static VoteResult voteResult(Set<Integer> voters, Map<Integer, Boolean> votes) {
        int granted = 0, rejected = 0;
        for (int v : voters) {
            Boolean b = votes.get(v);
            if (b == null) continue;
            if (b) granted++; else rejected++;
        }
        int need = majority(voters.size());
        if (granted >= need) return VoteResult.WON;
        if (rejected > voters.size() - need) return VoteResult.LOST;
        return VoteResult.PENDING;
    }
}
