package io.raftkv.sim;

import io.raftkv.raft.DefectSeam;
import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.LinearizabilityChecker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whole nodes under simulation ({@link NodeSimulation}): the production node loop, KV state machine and file
 * storage on a simulated clock, network and disk. {@code -Dnodesim.seeds=N} runs N seeds (CI runs
 * {@value #CI_SEEDS}); {@code -Dnodesim.seed=S} replays one. A failure names its seed.
 */
class NodeSimulationTest {
    static final int CI_SEEDS = 300;
    /** How many seeds a run with a deliberate defect may take to show it. */
    static final int DEFECT_SEEDS = 600;

    // Power cuts, pauses and injected I/O errors make the nodes and the store log warnings by the thousand.
    private static final List<Logger> QUIET = List.of(Logger.getLogger("io.raftkv"));
    private static final List<Level> saved = new ArrayList<>();

    @TempDir
    Path tmp;

    @BeforeAll
    static void quiet() {
        for (Logger l : QUIET) {
            saved.add(l.getLevel());
            l.setLevel(Level.OFF);
        }
    }

    @AfterAll
    static void restore() {
        for (int i = 0; i < QUIET.size(); i++) QUIET.get(i).setLevel(saved.get(i));
    }

    @Test
    void wholeNodesStaySafeLiveAndLinearizableThroughPowerCutsPausesAndDiskErrors() {
        Long one = Long.getLong("nodesim.seed");
        long first = one != null ? one : Long.getLong("nodesim.first", 1);
        int seeds = one != null ? 1 : Integer.getInteger("nodesim.seeds", CI_SEEDS);
        long start = System.nanoTime();
        long ops = 0, cuts = 0, pauses = 0, ioErrors = 0, partitions = 0, taken = 0, installed = 0, leaders = 0;
        long transfers = 0, added = 0, removed = 0, lost = 0, changeCrashes = 0, slowDisks = 0, slowSyncs = 0, midWriteCuts = 0;
        // Answers of the conditional writes, by kind and answer: each must occur, or the checker saw none of it.
        java.util.Map<String, Long> conditional = new java.util.TreeMap<>();
        for (long seed = first; seed < first + seeds; seed++) {
            Path dir = tmp.resolve("seed-" + seed);
            NodeSimulation.Result r;
            try {
                r = new NodeSimulation(NodeSimulation.Params.of(seed), dir).run();
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("seed " + seed + " (replay: -Dnodesim.seed=" + seed + "): " + e, e);
            }
            CheckResult check = LinearizabilityChecker.check(r.history());
            if (!check.ok()) fail("seed " + seed + " (replay: -Dnodesim.seed=" + seed + "): " + check.explanation());
            ops += r.history().size();
            for (io.raftkv.lincheck.Operation op : r.history()) {
                if (op.kind() == io.raftkv.lincheck.OpKind.DELETE || op.kind() == io.raftkv.lincheck.OpKind.CAS) {
                    conditional.merge(op.kind() + " " + (op.pending() ? "pending" : op.output()), 1L, Long::sum);
                }
            }
            transfers += r.transfers();
            added += r.nodesAdded();
            removed += r.nodesRemoved();
            lost += r.disksLost();
            changeCrashes += r.changeCrashes();
            slowDisks += r.slowDisks();
            slowSyncs += r.slowSyncs();
            midWriteCuts += r.midWriteCuts();
            cuts += r.powerCuts();
            pauses += r.pauses();
            ioErrors += r.ioErrors();
            partitions += r.partitions();
            taken += r.snapshotsTaken();
            installed += r.snapshotsInstalled();
            leaders += r.leadersElected();
            delete(dir);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("NodeSimulationTest: %d seeds from %d in %.1f s (%.1f seeds/s): %d client operations, "
                        + "%d leaders, %d power cuts, %d pauses, %d disk errors, %d partitions, %d transfers, %d snapshots "
                        + "taken, %d installed; %d nodes added, %d removed, %d voters' disks lost and replaced, %d leaders cut "
                        + "mid-change; %d slow disks, %d slow forced writes, %d power cuts during one%n", seeds, first, seconds, seeds / seconds, ops,
                leaders, cuts, pauses, ioErrors, partitions, transfers, taken, installed, added, removed, lost, changeCrashes,
                slowDisks, slowSyncs, midWriteCuts);
        System.out.println("NodeSimulationTest: DELETE and CAS answers " + conditional);
        assertTrue(ops > 0);
        if (seeds >= 20) {
            for (String answer : new String[] {"DELETE true", "DELETE false", "CAS true", "CAS false"}) {
                assertTrue(conditional.getOrDefault(answer, 0L) > 0, "no " + answer + " in " + seeds + " seeds: " + conditional);
            }
        }
    }

    /**
     * Leases on whole nodes: the leader is often paused (a long GC, a stopped VM) while clients keep asking it;
     * the simulated clock runs on meanwhile, and a resumed leader must count those ticks before it reads from
     * its lease. {@code -Dnodesim.leaseSeeds=N} runs N seeds (default 20).
     */
    @Test
    void leaseReadsOnWholeNodesStayLinearizableThroughPausesOfTheLeader() {
        int seeds = Integer.getInteger("nodesim.leaseSeeds", 20);
        long start = System.nanoTime();
        long ops = 0, pauses = 0;
        for (long seed = 1; seed <= seeds; seed++) {
            Path dir = tmp.resolve("lease-" + seed);
            NodeSimulation.Result r;
            try {
                r = new NodeSimulation(NodeSimulation.Params.of(seed).withLeaseReads(), dir).run();
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("lease seed " + seed + ": " + e, e);
            }
            CheckResult check = LinearizabilityChecker.check(r.history());
            if (!check.ok()) fail("lease seed " + seed + ": " + check.explanation());
            ops += r.history().size();
            pauses += r.pauses();
            delete(dir);
        }
        System.out.printf("NodeSimulationTest, lease reads: %d seeds in %.1f s: %d client operations, %d pauses%n", seeds,
                (System.nanoTime() - start) / 1e9, ops, pauses);
    }

    /** The first of {@code seeds} seeds from 1 whose run breaks a check with {@code defect} on, or fails the test. */
    private String firstCaught(DefectSeam.Defect defect, int seeds) {
        for (long seed = 1; seed <= seeds; seed++) {
            Path dir = tmp.resolve(defect + "-" + seed);
            try {
                NodeSimulation.Result r = new NodeSimulation(NodeSimulation.Params.of(seed).withDefect(defect), dir).run();
                CheckResult check = LinearizabilityChecker.check(r.history());
                if (!check.ok()) return "seed " + seed + ": not linearizable: " + check.explanation();
            } catch (SafetyViolation v) {
                return "seed " + seed + ": " + v.getMessage();
            } finally {
                delete(dir);
            }
        }
        return fail(defect + " went unnoticed in " + seeds + " seeds");
    }

    @Test
    @Tag("defect-search")
    void theChecksCatchAReadConfirmedByAHeartbeatRoundSentBeforeTheReadArrived() {
        String caught = firstCaught(DefectSeam.Defect.CONFIRM_READ_BY_EARLIER_ROUND, DEFECT_SEEDS);
        System.out.println("read confirmed by an earlier round: caught at " + caught);
        assertTrue(caught.contains("not linearizable"), caught);
    }

    private static void delete(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
