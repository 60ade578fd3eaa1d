package io.raftkv.storage;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Power cuts at every point of a store's writes. A random Raft-like history (appends, overwritten suffixes,
 * commit-only writes, term and vote changes, segment roll-overs, snapshots that compact the log, snapshots
 * that replace a diverging log, snapshots abandoned half-written) runs on a {@link FileStorage} whose every
 * change goes through {@link PowerLossIo}. Then, for every prefix of those changes, each thing the disk may
 * hold after a cut there (unforced bytes lost, landed, cut short, a sector lost or zeroed, writes reordered,
 * directory changes half done) is opened as a store, which must come back exactly as some call left it: the
 * last one that returned, any later one (the call under way may have landed whole), or an earlier one only
 * back to the last call that promised durability (a write of the commit index alone promises none). Never a
 * refusal: nothing a cut does is damage to what was acknowledged.
 *
 * <p>Recovery writes too (it cuts a torn tail off, rolls to a fresh segment, rewrites a marker), and the power
 * may go again while it does. So for some of those disks, recovery runs through the power-cut layer as well,
 * and every disk a second cut may leave is opened again: cut while recovery runs, it must come back as some
 * call left it; cut after recovery returned, exactly as recovery found it (the node has acted on that).
 *
 * <p>CI runs {@value #CI_HISTORIES} histories of {@value #STEPS} calls, with a second cut tried in up to
 * {@value #CI_RECOVERIES} recoveries each; {@code -Dpowerloss.histories=N} and {@code -Dpowerloss.recoveries=N}
 * run more, {@code -Dpowerloss.seed=S} replays one. Each history prints its seed and its counts.
 */
@ExtendWith(QuietStoreWarnings.class)
class PowerLossTest {
    static final int CI_HISTORIES = 4;
    static final int STEPS = 40;
    static final int CI_RECOVERIES = 30;
    private static final Configuration CONFIG = Configuration.ofVoters(Set.of(1, 2, 3));


    @TempDir
    Path tmp;


    /** What a store holds, as the calls that made it see it. */
    record State(HardState hardState, SnapshotMeta snapshot, String snapshotData, List<Entry> entries) {
        static State of(Storage s) {
            SnapshotMeta meta = s.snapshot().orElse(null);
            String data = null;
            if (meta != null) {
                try (SnapshotReader r = s.openSnapshot(); InputStream in = r.stream()) {
                    data = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
                } catch (NoSuchAlgorithmException e) {
                    throw new AssertionError(e);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return new State(s.hardState(), meta, data, List.copyOf(s.entries()));
        }

        @Override
        public String toString() {
            return hardState + ", " + (snapshot == null ? "no snapshot" : snapshot) + ", entries "
                    + (entries.isEmpty() ? "none" : entries.get(0).index() + ".." + entries.get(entries.size() - 1).index());
        }
    }

    /** A call that returned: how many changes it and those before it made, whether it promised durability, the state after. */
    record Step(String what, int changes, boolean durable, State state) {}

    record Counts(int crashPoints, int crashStates, int recoveries, int recoveryCrashStates) {}

    @Test
    void everyPowerCutLeavesAStoreAsSomeCallLeftItNeverWrongDataNorARefusal() throws IOException {
        Long given = Long.getLong("powerloss.seed");
        int histories = given != null ? 1 : Integer.getInteger("powerloss.histories", CI_HISTORIES);
        int points = 0;
        int states = 0;
        int recoveries = 0;
        int recut = 0;
        for (int h = 0; h < histories; h++) {
            long seed = given != null ? given : new SplittableRandom().nextLong();
            Counts c = history(seed, tmp.resolve("h" + h));
            points += c.crashPoints();
            states += c.crashStates();
            recoveries += c.recoveries();
            recut += c.recoveryCrashStates();
        }
        System.out.println("PowerLossTest: " + histories + " histories, " + points + " crash points, " + states
                + " distinct disk contents after a cut, each recovered as some call left it; " + recoveries
                + " recoveries that wrote cut again at each of their changes, " + recut + " disk contents after the"
                + " second cut, each as some call or the finished recovery left it");
    }

    private Counts history(long seed, Path base) throws IOException {
        Path live = Files.createDirectories(base.resolve("live"));
        Path scratch = Files.createDirectories(base.resolve("scratch"));
        Path again = Files.createDirectories(base.resolve("again"));
        int recoveries = 0;
        int recut = 0;
        int recoveryLimit = Integer.getInteger("powerloss.recoveries", CI_RECOVERIES);
        SplittableRandom spread = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        PowerLossIo io = new PowerLossIo(live);
        // Small segments, so that a history rolls over many times; every write forced, as in production.
        FileStorage.Options options = FileStorage.Options.defaults().withSegmentBytes(700);
        List<Step> steps = new ArrayList<>();
        MemoryStorage model = new MemoryStorage();
        try (FileStorage store = FileStorage.open(live, options, io)) {
            steps.add(new Step("open", io.size(), true, State.of(model)));
            new Workload(new SplittableRandom(seed), store, model, io, steps).run(STEPS);
        }
        int states = 0;
        int total = io.size();
        // Recovery only reads what it finds; forcing its cut would cost time and prove nothing here.
        FileStorage.Options reopen = options.withSync(false);
        for (int k = 0; k <= total; k++) {
            int done = -1; // the last call whose changes all came before the cut
            while (done + 1 < steps.size() && steps.get(done + 1).changes() <= k) done++;
            int low = Math.max(done, 0);
            while (low > 0 && !steps.get(low).durable()) low--;
            List<Step> allowed = steps.subList(low, Math.min(done + 2, steps.size()));
            for (PowerLossIo.CrashState cs : io.crashStates(k)) {
                states++;
                int cut = k;
                State got = openAfterCut(cs, scratch, reopen, () -> where(seed, cut, total, cs, io, allowed));
                if (allowed.stream().noneMatch(s -> s.state().equals(got))) {
                    fail(where(seed, k, total, cs, io, allowed) + ": recovered " + got);
                }
                if (recoveries < recoveryLimit && spread.nextInt(16) == 0) { // spread over the history, not its start
                    int n = cutDuringRecovery(cs, options, again, scratch, reopen, got, allowed,
                            () -> where(seed, cut, total, cs, io, allowed));
                    if (n > 0) {
                        recoveries++;
                        recut += n;
                    }
                }
            }
        }
        System.out.println("PowerLossTest seed " + seed + " (replay: -Dpowerloss.seed=" + seed + "): " + (steps.size() - 1)
                + " calls, " + (total + 1) + " crash points, " + states + " disk contents");
        return new Counts(total + 1, states, recoveries, recut);
    }

    /**
     * Recovers the disk {@code cs} through the power-cut layer, then opens every disk a cut during that recovery,
     * or after it, may leave. Returns how many, or 0 if recovery wrote nothing.
     */
    private static int cutDuringRecovery(PowerLossIo.CrashState cs, FileStorage.Options options, Path dir, Path scratch,
                                         FileStorage.Options reopen, State recovered, List<Step> allowed,
                                         java.util.function.Supplier<String> where) throws IOException {
        clear(dir);
        PowerLossIo io = new PowerLossIo(dir, cs.files());
        try (FileStorage s = FileStorage.open(dir, options, io)) {
            assertEquals(recovered, State.of(s), () -> where.get() + ": recovery is not deterministic");
        }
        int changes = io.size();
        if (changes == 0) return 0;
        int seen = 0;
        for (int k = 0; k <= changes; k++) {
            for (PowerLossIo.CrashState again : io.crashStates(k)) {
                seen++;
                int cut = k;
                State got = openAfterCut(again, scratch, reopen, () -> where.get() + "; cut again after recovery's change "
                        + cut + " of " + changes + " (" + io.trace() + "), " + again.how());
                boolean ok = k == changes ? got.equals(recovered) : allowed.stream().anyMatch(s -> s.state().equals(got));
                if (!ok) {
                    fail(where.get() + "; cut again after recovery's change " + k + " of " + changes + " (" + io.trace()
                            + "), " + again.how() + ": recovered " + got + (k == changes ? " after a recovery that found "
                            + recovered : ""));
                }
            }
        }
        return seen;
    }

    /** Opens what {@code cs} left on the disk (in {@code scratch}); a refusal fails, saying {@code where}. */
    private static State openAfterCut(PowerLossIo.CrashState cs, Path scratch, FileStorage.Options reopen,
                                      java.util.function.Supplier<String> where) throws IOException {
        clear(scratch);
        for (Map.Entry<String, byte[]> f : cs.files().entrySet()) Files.write(scratch.resolve(f.getKey()), f.getValue());
        try (FileStorage s = FileStorage.open(scratch, reopen)) {
            return State.of(s);
        } catch (RuntimeException e) {
            throw new AssertionError(where.get() + ": recovery refused: " + e, e);
        }
    }

    private static String where(long seed, int k, int total, PowerLossIo.CrashState cs, PowerLossIo io, List<Step> allowed) {
        List<PowerLossIo.Op> trace = io.trace();
        return "seed " + seed + " (-Dpowerloss.seed=" + seed + "), cut after change " + k + " of " + total
                + (k > 0 ? " (" + trace.get(k - 1) + ")" : "") + ", " + cs.how() + "; files " + cs.files().keySet()
                + "; allowed: " + allowed.stream().map(s -> s.what() + " -> " + s.state()).toList();
    }

    private static void clear(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) Files.delete(f);
        }
    }

    /** Random calls a Raft node could make, on the store under test and on the model alike. */
    private static final class Workload {
        private final SplittableRandom random;
        private final FileStorage store;
        private final MemoryStorage model;
        private final PowerLossIo io;
        private final List<Step> steps;
        private long term = 1;
        private int vote = 1;
        private long commit;

        Workload(SplittableRandom random, FileStorage store, MemoryStorage model, PowerLossIo io, List<Step> steps) {
            this.random = random;
            this.store = store;
            this.model = model;
            this.io = io;
            this.steps = steps;
        }

        void run(int calls) throws IOException {
            persist("term 1 vote 1", new HardState(term, vote, commit), List.of(), true);
            while (steps.size() <= calls) {
                long last = model.lastIndex();
                long snap = model.snapshot().map(SnapshotMeta::index).orElse(0L);
                int pick = random.nextInt(100);
                if (pick < 40) {
                    List<Entry> batch = entries(last + 1, 1 + random.nextInt(4));
                    HardState hs = random.nextBoolean() ? null : new HardState(term, vote, commit);
                    persist("append " + range(batch), hs, batch, true);
                } else if (pick < 50 && last > Math.max(commit, snap)) {
                    // A new leader's entries overwrite an uncommitted suffix.
                    term++;
                    vote = 1 + random.nextInt(3);
                    long from = commit + 1 + random.nextLong(last - Math.max(commit, snap)) + Math.max(0, snap - commit);
                    List<Entry> batch = entries(from, 1 + random.nextInt(3));
                    persist("overwrite from " + from, new HardState(term, vote, commit), batch, true);
                } else if (pick < 65 && commit < last) {
                    commit += 1 + random.nextLong(last - commit);
                    persist("commit " + commit, new HardState(term, vote, commit), List.of(), false);
                } else if (pick < 72) {
                    term++;
                    vote = random.nextInt(4);
                    persist("term " + term + " vote " + vote, new HardState(term, vote, commit), List.of(), true);
                } else if (pick < 85 && commit > snap) {
                    // A snapshot of the applied state: the log holds its last entry.
                    long index = snap + 1 + random.nextLong(commit - snap);
                    long at = index - snap - 1;
                    snapshot("snapshot at " + index, new SnapshotMeta(index, model.entries().get((int) at).term(), CONFIG), true);
                } else if (pick < 92) {
                    // A leader's snapshot beyond this log, which it replaces.
                    long index = Math.max(last, snap) + 1 + random.nextInt(3);
                    snapshot("leader's snapshot at " + index, new SnapshotMeta(index, term, CONFIG), true);
                } else if (commit > snap) {
                    snapshot("snapshot abandoned", new SnapshotMeta(commit, model.entries().get((int) (commit - snap - 1)).term(),
                            CONFIG), false);
                }
            }
        }

        private List<Entry> entries(long from, int n) {
            List<Entry> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                // Mostly small commands; now and then one that spans several sectors.
                int size = random.nextInt(10) == 0 ? 600 + random.nextInt(1500) : random.nextInt(120);
                byte[] data = new byte[size];
                random.nextBytes(data);
                out.add(size == 0 ? new Entry(from + i, term, Entry.Kind.NOOP, data) : new Entry(from + i, term, Entry.Kind.COMMAND, data));
            }
            return out;
        }

        private static String range(List<Entry> batch) {
            return batch.get(0).index() + ".." + batch.get(batch.size() - 1).index();
        }

        private void persist(String what, HardState hs, List<Entry> batch, boolean durable) {
            store.persist(hs, batch);
            model.persist(hs, batch);
            steps.add(new Step(what, io.size(), durable, State.of(model)));
        }

        private void snapshot(String what, SnapshotMeta meta, boolean install) throws IOException {
            byte[] data = new byte[random.nextInt(8) == 0 ? 70_000 + random.nextInt(10_000) : random.nextInt(3000)];
            random.nextBytes(data);
            try (SnapshotWriter w = store.createSnapshot(meta); SnapshotWriter m = model.createSnapshot(meta)) {
                write(w.output(), data);
                write(m.output(), data);
                if (install) {
                    w.install();
                    m.install();
                }
            }
            steps.add(new Step(what, io.size(), install, State.of(model)));
        }

        private void write(OutputStream out, byte[] data) throws IOException {
            int at = 0;
            while (at < data.length) {
                int n = Math.min(data.length - at, 1 + random.nextInt(20_000));
                out.write(data, at, n);
                at += n;
            }
        }
    }

    @Test
    void theModelSeesWritesCutShortSectorsLostAndDirectoryChangesHalfDone() throws IOException {
        Path live = Files.createDirectories(tmp.resolve("model"));
        PowerLossIo io = new PowerLossIo(live);
        try (var ch = io.open(live.resolve("a"), Set.of(java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE))) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
            ch.force(false);
            io.syncDirectory(live);
            byte[] big = new byte[PowerLossIo.SECTOR * 2];
            Arrays.fill(big, (byte) 7);
            ch.write(java.nio.ByteBuffer.wrap(big), 3);
        }
        io.move(live.resolve("a"), live.resolve("b"));
        List<PowerLossIo.CrashState> states = io.crashStates(io.size());
        // The forced three bytes are always there, under one name or the other.
        for (PowerLossIo.CrashState s : states) {
            byte[] f = s.files().containsKey("b") ? s.files().get("b") : s.files().get("a");
            assertTrue(f != null && f.length >= 3 && f[0] == 1 && f[2] == 3, s.how());
        }
        assertTrue(states.stream().anyMatch(s -> s.files().containsKey("a")), "the rename may not have landed");
        assertTrue(states.stream().anyMatch(s -> s.files().containsKey("b")), "the rename may have landed");
        assertTrue(states.stream().anyMatch(s -> s.files().getOrDefault("b", new byte[0]).length == 3), "the write may be lost");
        assertTrue(states.stream().anyMatch(s -> {
            byte[] f = s.files().get("b");
            return f != null && f.length == 3 + 2 * PowerLossIo.SECTOR && f[3] == 0 && f[f.length - 1] == 7;
        }), "a later sector may land while an earlier one does not");
        assertEquals(1, states.stream().filter(s -> {
            byte[] f = s.files().get("b");
            return f != null && f.length == 3 + 2 * PowerLossIo.SECTOR && f[3] == 7 && f[f.length - 1] == 7
                    && f[PowerLossIo.SECTOR] == 7;
        }).count(), "the whole write may land, and each content is listed once");
    }
}
