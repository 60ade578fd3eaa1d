package io.raftkv.sim;

import io.raftkv.raft.DefectSeam;
import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.HistoryJson;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.OpKind;
import io.raftkv.raft.RaftConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the deterministic cluster simulation over many seeds and checks every run for Raft's safety
 * properties, liveness after healing, and a linearizable client history.
 *
 * <p>{@code -Dsim.seeds=N} runs N seeds (default 2000); {@code -Dsim.seed=S} replays seed S alone,
 * and with {@code -Dsim.trace=true} prints its trace. A seed draws whether it takes snapshots and changes
 * its membership; {@code -Dsim.snapshotsAndMembership=true} (or {@code false}) forces both on (or off), and
 * {@code -Dsim.defect=NAME} and {@code -Dsim.churn=true} replay a seed of the defect tests below;
 * {@code -Dsim.reads=within} one of the read test's seeds, with the reads and clocks it draws.
 */
class SimulationTest {

    /** What one seed ended in: null if it passed, else what broke. */
    record Outcome(long seed, long steps, int ops, String failure, String summary, String property,
                   Simulation.Result result) {}

    static Outcome runSeed(Simulation.Params params, PrintStream trace) {
        Simulation.Result r;
        try {
            r = new Simulation(params, trace).run();
        } catch (SafetyViolation v) {
            return new Outcome(params.seed(), 0, 0, v.getMessage(), "", v.property, null);
        }
        String summary = String.format("%d leaders elected, %d entries committed, %d crashes, %d faults, "
                        + "%d snapshots taken, %d sent, %d installed, %d membership changes committed (%d nodes added, "
                        + "%d removed; final %s), simulated time %d", r.leadersElected(), r.committed(), r.crashes(),
                r.faults(), r.snapshotsTaken(), r.snapshotsSent(), r.snapshotsInstalled(), r.configChangesCommitted(),
                r.nodesAdded(), r.nodesRemoved(), r.finalConfiguration(), r.simulatedTime());
        CheckResult check = LinearizabilityChecker.check(r.history());
        if (check.verdict() == CheckResult.Verdict.NOT_LINEARIZABLE) {
            saveHistory(params.seed(), r);
            return new Outcome(params.seed(), r.steps(), r.history().size(), "not linearizable: " + check.explanation(), summary, "linearizability", r);
        }
        if (check.verdict() == CheckResult.Verdict.UNKNOWN) {
            saveHistory(params.seed(), r);
            return new Outcome(params.seed(), r.steps(), r.history().size(), "linearizability undecided: " + check.explanation(), summary, "linearizability", r);
        }
        return new Outcome(params.seed(), r.steps(), r.history().size(), null, summary, null, r);
    }

    private static void saveHistory(long seed, Simulation.Result r) {
        try {
            Path dir = Path.of("target", "sim-histories");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("seed-" + seed + ".json"), HistoryJson.toJson(r.history()));
        } catch (IOException e) {
            System.err.println("could not save the history of seed " + seed + ": " + e);
        }
    }

    private static String replayHint(long seed) {
        return "replay with: mvn test -Dtest=SimulationTest#replayOneSeed -Dsim.seed=" + seed + " -Dsim.trace=true";
    }

    /** The run {@code -Dsim.seed} and the properties beside it stand for. */
    private static Simulation.Params replayParams(long seed) {
        Simulation.Params p = Simulation.Params.of(seed);
        String features = System.getProperty("sim.snapshotsAndMembership", "");
        if (features.equals("true")) p = p.withSnapshotsAndMembership();
        else if (features.equals("false")) p = p.withoutSnapshotsOrMembership();
        if (Boolean.getBoolean("sim.churn")) p = p.withLeaderChurn();
        String defect = System.getProperty("sim.defect", "");
        if (!defect.isBlank()) p = p.withDefect(DefectSeam.Defect.valueOf(defect.trim()));
        String reads = System.getProperty("sim.reads", "").trim();
        if (reads.equals("within")) p = p.withReads(readsWithinTheBound(seed));
        return p;
    }

    /**
     * The reads of a seed of {@link #readsByLeaseAndFromFollowersOnDriftingClocksStayLinearizable}: by lease in
     * three seeds of four (else ReadIndex), from any node in three of four, on clocks the slowest of which loses 0
     * to 30% of a tick per tick on the fastest, the lease's drift bound large enough for that drift.
     */
    static Simulation.Reads readsWithinTheBound(long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed ^ 0x4EAD5L);
        double drift = r.nextInt(4) * 0.1;
        return new Simulation.Reads(r.nextInt(4) != 0, drift, Simulation.Reads.safeDriftBound(drift), r.nextInt(4) != 0);
    }

    @Test
    void theDriftBoundThatKeepsLeasesSafeGrowsWithTheDrift() {
        assertEquals(2, Simulation.Reads.safeDriftBound(0), "a tick of rounding on either side");
        assertEquals(3, Simulation.Reads.safeDriftBound(0.1));
        assertEquals(4, Simulation.Reads.safeDriftBound(0.3));
        assertEquals(8, Simulation.Reads.safeDriftBound(3));
    }

    /**
     * Leases and reads served by followers, with faults, crashes, leadership transfers, snapshots and membership
     * changes, on clocks of different speeds: every history linearizable, as long as the lease's drift bound
     * covers how far the clocks drift apart. {@code -Dsim.readSeeds=N} runs N seeds (default 400).
     */
    @Test
    void readsByLeaseAndFromFollowersOnDriftingClocksStayLinearizable() {
        int seeds = Integer.getInteger("sim.readSeeds", 400);
        long start = System.nanoTime();
        List<Outcome> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicLong ops = new AtomicLong();
        LongStream.rangeClosed(1, seeds).parallel().forEach(seed -> {
            Outcome o = runSeed(Simulation.Params.of(seed).withReads(readsWithinTheBound(seed)), null);
            ops.addAndGet(o.ops());
            if (o.failure() != null) failures.add(o);
        });
        System.out.printf("reads by lease and from followers, drifting clocks: %d seeds, %d operations in %.1f s%n", seeds,
                ops.get(), (System.nanoTime() - start) / 1e9);
        if (!failures.isEmpty()) {
            failures.sort((a, b) -> Long.compare(a.seed(), b.seed()));
            Outcome first = failures.get(0);
            fail(failures.size() + " of " + seeds + " seeds failed; seed " + first.seed() + " (" + readsWithinTheBound(first.seed())
                    + "): " + first.failure() + "\n" + replayHint(first.seed()) + " -Dsim.reads=within");
        }
    }

    @Test
    void manySeedsKeepRaftSafeLiveAndLinearizable() {
        String one = System.getProperty("sim.seed", "");
        if (!one.isBlank()) return; // replayOneSeed handles it
        int seeds = Integer.getInteger("sim.seeds", 2000);
        long start = System.nanoTime();
        AtomicLong steps = new AtomicLong();
        AtomicLong ops = new AtomicLong();
        // Seeds with snapshots on, and of those how many brought a follower up by InstallSnapshot; likewise
        // for membership changes.
        AtomicLong snapshotSeeds = new AtomicLong(), seedsInstalling = new AtomicLong(), installed = new AtomicLong();
        AtomicLong taken = new AtomicLong();
        AtomicLong membershipSeeds = new AtomicLong(), seedsChanging = new AtomicLong(), changes = new AtomicLong();
        AtomicLong added = new AtomicLong(), removed = new AtomicLong();
        List<Outcome> failures = Collections.synchronizedList(new ArrayList<>());
        LongStream.rangeClosed(1, seeds).parallel().forEach(seed -> {
            Simulation.Params p = Simulation.Params.of(seed);
            Outcome o = runSeed(p, null);
            steps.addAndGet(o.steps());
            ops.addAndGet(o.ops());
            if (o.failure() != null) failures.add(o);
            Simulation.Result r = o.result();
            if (r == null) return;
            if (p.snapshots()) {
                snapshotSeeds.incrementAndGet();
                taken.addAndGet(r.snapshotsTaken());
                installed.addAndGet(r.snapshotsInstalled());
                if (r.snapshotsInstalled() > 0) seedsInstalling.incrementAndGet();
            }
            if (p.membership()) {
                membershipSeeds.incrementAndGet();
                changes.addAndGet(r.configChangesCommitted());
                added.addAndGet(r.nodesAdded());
                removed.addAndGet(r.nodesRemoved());
                if (r.configChangesCommitted() > 0) seedsChanging.incrementAndGet();
            }
        });
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("simulation: %d seeds, %d client operations, %d steps in %.1f s: %.0f seeds/s, %.0f steps/s%n",
                seeds, ops.get(), steps.get(), secs, seeds / secs, steps.get() / secs);
        System.out.printf("  snapshots: %d seeds took %d and installed %d (by InstallSnapshot in %d of them); "
                        + "membership: %d seeds committed %d changes, %d nodes added and %d removed (in %d of them)%n",
                snapshotSeeds.get(), taken.get(), installed.get(), seedsInstalling.get(), membershipSeeds.get(),
                changes.get(), added.get(), removed.get(), seedsChanging.get());
        if (!failures.isEmpty()) {
            failures.sort((a, b) -> Long.compare(a.seed(), b.seed()));
            StringBuilder sb = new StringBuilder(failures.size() + " of " + seeds + " seeds failed:\n");
            for (Outcome f : failures.subList(0, Math.min(10, failures.size()))) {
                sb.append("  seed ").append(f.seed()).append(": ").append(f.failure()).append('\n');
            }
            sb.append(replayHint(failures.get(0).seed()));
            fail(sb.toString());
        }
        // The new paths must really run: a follower behind a compacted log, and changes that commit.
        assertTrue(seedsInstalling.get() * 2 >= snapshotSeeds.get(), "a follower installed a leader's snapshot in only "
                + seedsInstalling.get() + " of " + snapshotSeeds.get() + " seeds with snapshots");
        assertTrue(seedsChanging.get() * 2 >= membershipSeeds.get(), "a membership change committed in only "
                + seedsChanging.get() + " of " + membershipSeeds.get() + " seeds with membership changes");
    }

    @Test
    void replayOneSeed() {
        String one = System.getProperty("sim.seed", "");
        if (one.isBlank()) {
            System.out.println("replayOneSeed: no -Dsim.seed given, nothing to replay");
            return;
        }
        long seed = Long.parseLong(one.trim());
        PrintStream trace = Boolean.getBoolean("sim.trace") ? System.out : null;
        Simulation.Params params = replayParams(seed);
        Outcome o = runSeed(params, trace);
        System.out.printf("seed %d: %d nodes%s%s, %d steps, %d operations; %s: %s%n", seed, params.nodes(),
                params.snapshots() ? ", snapshots" : "", params.membership() ? ", membership changes" : "", o.steps(), o.ops(),
                o.summary(), o.failure() == null ? "safe, live and linearizable" : o.failure());
        assertEquals(null, o.failure(), "seed " + seed);
    }

    @Test
    void aSeedReplaysExactly() {
        Simulation.Result a = new Simulation(Simulation.Params.of(42), null).run();
        Simulation.Result b = new Simulation(Simulation.Params.of(42), null).run();
        assertEquals(a.steps(), b.steps());
        assertEquals(a.history(), b.history());
        assertTrue(a.history().size() >= 300, "a seed issues at least 300 operations, got " + a.history().size());
        assertTrue(a.faults() > 0, "seed 42 injects faults");
        // Every kind of operation is in it, and the conditional writes both succeed and fail.
        for (OpKind kind : OpKind.values()) {
            assertTrue(a.history().stream().anyMatch(op -> op.kind() == kind), "seed 42 issues a " + kind);
        }
        for (OpKind kind : new OpKind[] {OpKind.DELETE, OpKind.CAS}) {
            for (String answer : new String[] {"true", "false"}) {
                assertTrue(a.history().stream().anyMatch(op -> op.kind() == kind && answer.equals(op.output())),
                        "seed 42 has a " + kind + " that answered " + answer);
            }
        }
    }

    /** Finds the first seed in [1, limit] whose run fails, trying a batch of seeds at a time in parallel. */
    private static Outcome firstFailure(int limit, java.util.function.LongFunction<Simulation.Params> params) {
        return firstFailure(1, limit, 32, params);
    }

    /** Finds the first seed in [start, limit] whose run fails, trying {@code batch} seeds at a time in parallel. */
    private static Outcome firstFailure(long start, long limit, int batch, java.util.function.LongFunction<Simulation.Params> params) {
        for (long from = start; from <= limit; from += batch) {
            long to = Math.min(limit, from + batch - 1);
            Outcome first = LongStream.rangeClosed(from, to).parallel()
                    .mapToObj(seed -> runSeed(params.apply(seed), null))
                    .filter(o -> o.failure() != null)
                    .min((a, b) -> Long.compare(a.seed(), b.seed()))
                    .orElse(null);
            if (first != null) return first;
        }
        return null;
    }

    @Test
    @Tag("defect-search")
    void theSimulationFindsTwoVotesInOneTerm() {
        Outcome o = firstFailure(500, s -> Simulation.Params.of(s).withDefect(DefectSeam.Defect.GRANT_TWO_VOTES_PER_TERM));
        assertNotNull(o, "granting two votes per term went unnoticed in 500 seeds");
        assertEquals("election safety", o.property(), o.failure());
        System.out.println("two votes per term: caught at seed " + o.seed() + ": " + o.failure());
    }

    @Test
    @Tag("defect-search")
    void theSimulationFindsALeaderThatCountsItsOwnEntryBeforeItIsDurable() {
        Outcome o = firstFailure(500, s -> Simulation.Params.of(s).withDefect(DefectSeam.Defect.COUNT_OWN_ENTRY_BEFORE_DURABLE));
        assertNotNull(o, "a leader counting its own entry before it is durable went unnoticed in 500 seeds");
        assertEquals("durability", o.property(), o.failure());
        System.out.println("own entry counted before durable: caught at seed " + o.seed() + ": " + o.failure());
    }

    @Test
    @Tag("defect-search")
    void theSimulationFindsVotesForStaleLogs() {
        Outcome o = firstFailure(500, s -> Simulation.Params.of(s).withDefect(DefectSeam.Defect.VOTE_FOR_STALE_LOGS));
        assertNotNull(o, "voting without the up-to-date check went unnoticed in 500 seeds");
        assertTrue(Set.of("leader completeness", "state machine safety", "log matching").contains(o.property()), o.failure());
        System.out.println("votes for stale logs: caught at seed " + o.seed() + ": " + o.failure());
    }

    /**
     * The Figure 8 bug needs, besides the defect, a leader whose no-op has not reached a majority when
     * it commits an older entry, and a crash or a lost message in that window: about one seed in
     * several thousand of the leader-churn runs shows it.
     */
    @Test
    @Tag("defect-search")
    void theSimulationFindsTheFigure8Bug() {
        Outcome o = firstFailure(5000, s -> Simulation.Params.of(s).withoutSnapshotsOrMembership().withLeaderChurn()
                .withDefect(DefectSeam.Defect.COMMIT_EARLIER_TERM_BY_COUNTING));
        assertNotNull(o, "committing an earlier term's entry by counting went unnoticed in 5000 seeds");
        assertTrue(o.property().equals("leader completeness") || o.property().equals("state machine safety"), o.failure());
        System.out.println("figure 8: caught at seed " + o.seed() + ": " + o.failure());
    }

    /**
     * The same with snapshots, compaction and membership changes on. It shows about once in two thousand
     * seeds, too rarely to search from seed 1 on every build: this searches from {@code -Dsim.figure8From}
     * (default 2385, a little before the first seed a search from 1 found; a change to the simulation moves
     * it, and then a search with {@code -Dsim.figure8From=1} finds the new one).
     */
    @Test
    @Tag("defect-search")
    void theSimulationFindsTheFigure8BugWithSnapshotsAndMembership() {
        long from = Long.getLong("sim.figure8From", 2385);
        Outcome o = firstFailure(from, from + 4999, 16, s -> Simulation.Params.of(s).withSnapshotsAndMembership()
                .withLeaderChurn().withDefect(DefectSeam.Defect.COMMIT_EARLIER_TERM_BY_COUNTING));
        assertNotNull(o, "committing an earlier term's entry by counting went unnoticed in 5000 seeds from " + from
                + " with snapshots and membership changes");
        assertTrue(Set.of("leader completeness", "state machine safety", "committed configuration kept").contains(o.property()),
                o.failure());
        System.out.println("figure 8, with snapshots and membership changes: caught at seed " + o.seed() + ": " + o.failure()
                + "\n  replay with -Dsim.seed=" + o.seed() + " -Dsim.snapshotsAndMembership=true -Dsim.churn=true"
                + " -Dsim.defect=COMMIT_EARLIER_TERM_BY_COUNTING");
    }

    @Test
    @Tag("defect-search")
    void theSimulationFindsTwoVotesInOneTermWithSnapshotsAndMembership() {
        Outcome o = firstFailure(500, s -> Simulation.Params.of(s).withSnapshotsAndMembership()
                .withDefect(DefectSeam.Defect.GRANT_TWO_VOTES_PER_TERM));
        assertNotNull(o, "granting two votes per term went unnoticed in 500 seeds with snapshots and membership changes");
        assertEquals("election safety", o.property(), o.failure());
        System.out.println("two votes per term, with snapshots and membership changes: caught at seed " + o.seed() + ": "
                + o.failure());
    }

    @Test
    @Tag("defect-search")
    void theSimulationFindsVotesForStaleLogsWithSnapshotsAndMembership() {
        Outcome o = firstFailure(500, s -> Simulation.Params.of(s).withSnapshotsAndMembership()
                .withDefect(DefectSeam.Defect.VOTE_FOR_STALE_LOGS));
        assertNotNull(o, "voting without the up-to-date check went unnoticed in 500 seeds with snapshots and membership changes");
        assertTrue(Set.of("leader completeness", "state machine safety", "log matching", "committed configuration kept")
                .contains(o.property()), o.failure());
        System.out.println("votes for stale logs, with snapshots and membership changes: caught at seed " + o.seed() + ": "
                + o.failure());
    }

    @Test
    @Tag("defect-search")
    void theLinearizabilityCheckerCatchesStaleReadsWithSnapshotsAndMembership() {
        Outcome o = firstFailure(1, 200, 4, s -> Simulation.Params.of(s).withSnapshotsAndMembership().withStaleReads());
        assertNotNull(o, "reads served without ReadIndex went unnoticed in 200 seeds with snapshots and membership changes");
        assertEquals("linearizability", o.property(), o.failure());
        System.out.println("stale reads, with snapshots and membership changes: caught at seed " + o.seed() + ": "
                + o.failure().lines().findFirst().orElse(""));
    }

    @Test
    @Tag("defect-search")
    void theLinearizabilityCheckerCatchesStaleReads() {
        // Small batches: deciding that a history is not linearizable takes the checker long.
        Outcome o = firstFailure(1, 200, 4, s -> Simulation.Params.of(s).withStaleReads());
        assertNotNull(o, "reads served without ReadIndex went unnoticed in 200 seeds");
        assertEquals("linearizability", o.property(), o.failure());
        assertTrue(o.failure().startsWith("not linearizable"), o.failure());
        System.out.println("stale reads: caught at seed " + o.seed() + ": " + o.failure().lines().findFirst().orElse(""));
    }
}
