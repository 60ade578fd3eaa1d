package io.raftkv.raft;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Majority arithmetic for clusters of one to seven voters, checked against the definition. */
class QuorumTest {

    private static Set<Integer> voters(int n) {
        return IntStream.rangeClosed(1, n).boxed().collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void majorityIsMoreThanHalf() {
        int[] expected = {1, 2, 2, 3, 3, 4, 4};
        for (int n = 1; n <= 7; n++) assertEquals(expected[n - 1], Quorum.majority(n), n + " voters");
    }

    @Test
    void committedIndexOfVotersHoldingOneToNEntries() {
        long[] expected = {1, 1, 2, 2, 3, 3, 4};
        for (int n = 1; n <= 7; n++) {
            // Voter v holds entries up to index v: indexes up to n - majority + 1 are on a majority.
            assertEquals(expected[n - 1], Quorum.committedIndex(voters(n), v -> v), n + " voters");
        }
    }

    @ParameterizedTest(name = "{0} voters")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void committedIndexIsTheLargestIndexAMajorityStores(int n) {
        SplittableRandom random = new SplittableRandom(n);
        Set<Integer> voters = voters(n);
        for (int trial = 0; trial < 500; trial++) {
            Map<Integer, Long> match = new HashMap<>();
            for (int v : voters) match.put(v, (long) random.nextInt(6));
            long expected = 0;
            for (long index : match.values()) {
                long holders = match.values().stream().filter(m -> m >= index).count();
                if (holders >= n / 2 + 1) expected = Math.max(expected, index);
            }
            assertEquals(expected, Quorum.committedIndex(voters, match::get), "match indexes " + match);
            // The form the leader counts with: match indexes in reused scratch space, longer than needed.
            long[] scratch = new long[n + 2];
            scratch[n] = 99;
            scratch[n + 1] = -1;
            int i = 0;
            for (int v : voters) scratch[i++] = match.get(v);
            assertEquals(expected, Quorum.committedIndex(scratch, n), "match indexes " + match + " in scratch space");
            assertEquals(99, scratch[n], "slots past n are left alone");
        }
    }

    @ParameterizedTest(name = "{0} voters")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void voteResultForEveryCombinationOfVotes(int n) {
        Set<Integer> voters = voters(n);
        int combinations = (int) Math.pow(3, n);
        for (int c = 0; c < combinations; c++) {
            Map<Integer, Boolean> votes = new HashMap<>();
            int granted = 0, missing = 0, code = c;
            for (int v = 1; v <= n; v++, code /= 3) {
                switch (code % 3) {
                    case 0 -> missing++;
                    case 1 -> { votes.put(v, true); granted++; }
                    default -> votes.put(v, false);
                }
            }
            int need = n / 2 + 1;
            Quorum.VoteResult expected = granted >= need ? Quorum.VoteResult.WON
                    : granted + missing < need ? Quorum.VoteResult.LOST : Quorum.VoteResult.PENDING;
            assertEquals(expected, Quorum.voteResult(voters, votes), "votes " + votes);
        }
    }

    @Test
    void votesFromServersThatAreNotVotersDoNotCount() {
        Map<Integer, Boolean> votes = Map.of(1, true, 8, true, 9, true);
        assertEquals(Quorum.VoteResult.PENDING, Quorum.voteResult(voters(3), votes));
    }
}
