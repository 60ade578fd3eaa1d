package io.raftkv.node;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.storage.SnapshotWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The snapshot stream between a leader's {@link SnapshotSender} and a follower's {@link SnapshotReceiver},
 * over a channel that drops, duplicates, reorders and damages chunks: the follower ends with exactly the
 * leader's bytes, or the sender gives up. Seeded; the seed is printed and {@code -Dtransfer.seed} replays it.
 */
class SnapshotTransferTest {
    private static final SnapshotMeta META = new SnapshotMeta(42, 3, Configuration.ofVoters(Set.of(1, 2, 3)));
    private static final SnapshotPolicy POLICY = SnapshotPolicy.defaults().withChunkBytes(1000);

    private static MemoryStorage leaderStore(byte[] bytes) throws IOException {
        MemoryStorage s = new MemoryStorage();
        try (SnapshotWriter w = s.createSnapshot(META)) {
            w.output().write(bytes);
            w.install();
        }
        return s;
    }

    private static long seed() {
        String s = System.getProperty("transfer.seed");
        return s != null ? Long.parseLong(s) : System.nanoTime();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 999, 1000, 1001, 25_000})
    void aSnapshotArrivesWholeOverAFaultyChannel(int size) throws IOException {
        long seed = seed();
        System.out.println("SnapshotTransferTest: seed " + seed + " size " + size + "; replay with -Dtransfer.seed=" + seed);
        SplittableRandom random = new SplittableRandom(seed);
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        MemoryStorage followerStore = new MemoryStorage();
        List<Message> toFollower = new ArrayList<>();
        List<Message> toLeader = new ArrayList<>();
        SnapshotReceiver receiver = new SnapshotReceiver(2, followerStore, toLeader::add);
        SnapshotSender sender = new SnapshotSender(1, 2, 7, leaderStore(bytes).openSnapshot(), POLICY, 3, toFollower::add);
        InstallSnapshot whole = null;
        boolean done = false;
        int damaged = 0;
        for (int step = 0; step < 100_000 && !done; step++) {
            if (random.nextInt(10) == 0 || (toFollower.isEmpty() && toLeader.isEmpty())) {
                assertTrue(sender.tick(), "seed " + seed + ": the sender gave up on a channel that delivers most chunks");
                continue;
            }
            boolean forward = !toFollower.isEmpty() && (toLeader.isEmpty() || random.nextBoolean());
            List<Message> queue = forward ? toFollower : toLeader;
            Message m = queue.remove(random.nextInt(Math.min(queue.size(), 3))); // some reordering
            int fate = random.nextInt(20);
            if (fate == 0) continue;                                   // dropped
            if (fate == 1) queue.add(m);                               // duplicated
            if (forward) {
                SnapshotChunk c = (SnapshotChunk) m;
                if (fate == 2 && c.data().length > 0) {
                    byte[] bad = c.data().clone();
                    bad[random.nextInt(bad.length)] ^= 1;
                    c = new SnapshotChunk(c.from(), c.to(), c.term(), c.snapshot(), c.size(), c.offset(), bad, c.crc());
                    damaged++;
                }
                InstallSnapshot w = receiver.onChunk(c, 7);
                if (w != null) whole = w;
            } else {
                done = sender.onAck((SnapshotChunkAck) m);
            }
        }
        assertTrue(done, "seed " + seed + ": the transfer did not finish");
        assertNotNull(whole, "the receiver handed the core an InstallSnapshot");
        assertEquals(new InstallSnapshot(1, 2, 7, META), whole);
        try (SnapshotWriter w = receiver.take(META); InputStream in = w.readBack()) {
            assertArrayEquals(bytes, in.readAllBytes(), "seed " + seed + " (" + damaged + " chunks damaged on the way)");
        }
        sender.close();
    }

    @Test
    void aSenderWhoseFollowerNeverAnswersGivesUp() throws IOException {
        List<Message> sent = new ArrayList<>();
        SnapshotSender sender = new SnapshotSender(1, 2, 7, leaderStore(new byte[5_000]).openSnapshot(), POLICY, 3, sent::add);
        assertEquals(POLICY.chunksInFlight(), sent.size(), "a window of chunks goes out at once");
        int ticks = 0;
        while (sender.tick()) ticks++;
        assertEquals(3 * (SnapshotSender.MAX_RESENDS + 1) - 1, ticks);
        assertEquals(POLICY.chunksInFlight() * (SnapshotSender.MAX_RESENDS + 1), sent.size(), "each quiet spell resent the window");
    }

    @Test
    void aReceiverAsksForTheStartOfATransferItKnowsNothingOfAndIgnoresADeposedLeader() throws IOException {
        List<Message> acks = new ArrayList<>();
        SnapshotReceiver receiver = new SnapshotReceiver(2, new MemoryStorage(), acks::add);
        byte[] data = new byte[10];
        SnapshotChunk middle = new SnapshotChunk(1, 2, 7, META, 30, 10, data, crc(data));
        assertEquals(null, receiver.onChunk(middle, 7));
        assertEquals(List.of(new SnapshotChunkAck(2, 1, 7, 42, 0)), acks);
        acks.clear();
        SnapshotChunk stale = new SnapshotChunk(1, 2, 6, META, 10, 0, data, crc(data));
        assertEquals(null, receiver.onChunk(stale, 7), "a chunk of an older term is not taken");
        assertTrue(acks.isEmpty());
        SnapshotChunk whole = new SnapshotChunk(1, 2, 7, META, 10, 0, data, crc(data));
        assertEquals(new InstallSnapshot(1, 2, 7, META), receiver.onChunk(whole, 7));
        receiver.discardIfComplete();
        assertFalse(acks.isEmpty());
    }

    private static int crc(byte[] data) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(data);
        return (int) c.getValue();
    }

    @Test
    void damagedChunksAreRefusedAndSentAgain() throws IOException {
        byte[] bytes = new byte[3_000];
        Arrays.fill(bytes, (byte) 7);
        List<Message> toFollower = new ArrayList<>();
        List<Message> toLeader = new ArrayList<>();
        SnapshotReceiver receiver = new SnapshotReceiver(2, new MemoryStorage(), toLeader::add);
        SnapshotSender sender = new SnapshotSender(1, 2, 7, leaderStore(bytes).openSnapshot(), POLICY, 3, toFollower::add);
        SnapshotChunk first = (SnapshotChunk) toFollower.remove(0);
        byte[] bad = first.data().clone();
        bad[0] ^= (byte) 0x80;
        receiver.onChunk(new SnapshotChunk(1, 2, 7, META, first.size(), 0, bad, first.crc()), 7);
        assertEquals(new SnapshotChunkAck(2, 1, 7, 42, 0), toLeader.get(0), "the damaged chunk is not taken");
        while (!toFollower.isEmpty()) receiver.onChunk((SnapshotChunk) toFollower.remove(0), 7); // a gap: refused
        boolean done = false;
        while (!done && (!toLeader.isEmpty() || !toFollower.isEmpty())) {
            while (!toLeader.isEmpty()) done |= sender.onAck((SnapshotChunkAck) toLeader.remove(0));
            while (!toFollower.isEmpty()) receiver.onChunk((SnapshotChunk) toFollower.remove(0), 7);
        }
        assertTrue(done);
        try (SnapshotWriter w = receiver.take(META); InputStream in = w.readBack()) {
            assertArrayEquals(bytes, in.readAllBytes());
        }
    }
}
