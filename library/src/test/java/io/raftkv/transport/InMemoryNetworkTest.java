package io.raftkv.transport;

import io.raftkv.raft.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemoryNetworkTest {
    private static final long SEED = 42;
    private static final Duration WAIT = Duration.ofSeconds(5);

    private final InMemoryNetwork network = new InMemoryNetwork(SEED);

    @AfterEach
    void closeNetwork() {
        network.close();
    }

    /** A node's receiving end: what arrived, when, and on which thread. */
    private static final class Inbox implements MessageSink {
        final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
        final BlockingQueue<Long> arrivalNanos = new LinkedBlockingQueue<>();
        volatile Thread lastThread;

        @Override
        public void deliver(Message message) {
            lastThread = Thread.currentThread();
            arrivalNanos.add(System.nanoTime());
            messages.add(message);
        }

        Message next() throws InterruptedException {
            Message m = messages.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(m, "no message arrived within " + WAIT);
            return m;
        }

        /** The sequence numbers of the next n messages, waiting for each. */
        List<Long> next(int n) throws InterruptedException {
            List<Long> seqs = new ArrayList<>();
            for (int i = 0; i < n; i++) seqs.add(seq(next()));
            return seqs;
        }

        /** Takes whatever has arrived, waiting for nothing. */
        List<Long> drain() {
            List<Message> got = new ArrayList<>();
            messages.drainTo(got);
            return got.stream().map(InMemoryNetworkTest::seq).toList();
        }
    }

    private static Message msg(int from, int to, long seq) {
        return new Message.Heartbeat(from, to, 1, seq, 0);
    }

    private static long seq(Message m) {
        return ((Message.Heartbeat) m).commit();
    }

    private static void awaitCondition(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(1);
        }
    }

    /** Whether a message sent now from {@code t} (node from) to node {@code to} reaches {@code inbox}, which must be empty. */
    private static boolean gets(Transport t, int from, int to, Inbox inbox) {
        t.send(msg(from, to, 7));
        // With no delay configured delivery is synchronous, so an empty inbox now means dropped.
        return !inbox.drain().isEmpty();
    }

    @Test
    void deliversInOrderOnTheSendersThreadWithNoFaults() throws InterruptedException {
        Inbox two = new Inbox();
        Transport one = network.connect(1, new Inbox());
        network.connect(2, two);

        for (long i = 0; i < 1000; i++) one.send(msg(1, 2, i));

        assertEquals(List.of(), differencesFromRange(two.next(1000), 1000));
        assertSame(Thread.currentThread(), two.lastThread, "delivered with no thread hop");
        assertEquals(new InMemoryNetwork.Stats(1000, 0, 0, 0), network.stats());
        assertNull(network.delayThread(), "no delay thread without delay or reorder");
    }

    private static List<Long> differencesFromRange(List<Long> seqs, int n) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) if (seqs.get(i) != i) out.add(seqs.get(i));
        return out;
    }

    @Test
    void partitionBlocksAcrossGroupsAllowsWithinAndPutsUnnamedNodesTogether() {
        Inbox[] in = new Inbox[6];
        Transport[] t = new Transport[6];
        for (int id = 1; id <= 5; id++) t[id] = network.connect(id, in[id] = new Inbox());

        network.partition(List.of(Set.of(1, 2), Set.of(3)));

        assertTrue(network.linked(1, 2) && network.linked(2, 1));
        assertTrue(network.linked(4, 5) && network.linked(5, 4), "nodes named in no group form one group");
        assertFalse(network.linked(1, 3) || network.linked(3, 1));
        assertFalse(network.linked(2, 4) || network.linked(4, 2));
        assertFalse(network.linked(3, 5) || network.linked(5, 3));
        assertTrue(network.linked(3, 3), "a node is always linked to itself");
        assertTrue(gets(t[1], 1, 2, in[2]));
        assertTrue(gets(t[4], 4, 5, in[5]));
        assertFalse(gets(t[1], 1, 3, in[3]));
        assertFalse(gets(t[3], 3, 1, in[1]));
        assertFalse(gets(t[5], 5, 2, in[2]));

        network.partition(List.of(Set.of(1, 3)));
        assertTrue(network.linked(1, 3) && network.linked(2, 4), "a new partition replaces the old one");
        assertFalse(network.linked(1, 2));
    }

    @Test
    void isolateCutsEveryLinkToAndFromTheNodeAndAddsToEarlierCuts() {
        Inbox[] in = new Inbox[4];
        Transport[] t = new Transport[4];
        for (int id = 1; id <= 3; id++) t[id] = network.connect(id, in[id] = new Inbox());

        network.cut(2, 3);
        network.isolate(1);

        assertFalse(gets(t[1], 1, 2, in[2]));
        assertFalse(gets(t[1], 1, 3, in[3]));
        assertFalse(gets(t[2], 2, 1, in[1]));
        assertFalse(gets(t[3], 3, 1, in[1]));
        assertFalse(network.linked(2, 3), "the earlier cut stays");
        assertTrue(gets(t[3], 3, 2, in[2]));
        assertEquals(4, network.stats().dropped());
    }

    @Test
    void cutBlocksOneDirectionOnly() {
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, one);
        Transport t2 = network.connect(2, two);

        network.cut(1, 2);

        assertFalse(network.linked(1, 2));
        assertTrue(network.linked(2, 1));
        assertFalse(gets(t1, 1, 2, two));
        assertTrue(gets(t2, 2, 1, one));
    }

    @Test
    void healRestoresEveryLinkAndTurnsOffEveryRandomFault() throws InterruptedException {
        Inbox[] in = new Inbox[4];
        Transport[] t = new Transport[4];
        for (int id = 1; id <= 3; id++) t[id] = network.connect(id, in[id] = new Inbox());
        network.partition(List.of(Set.of(1), Set.of(2, 3)));
        network.isolate(3);
        network.cut(2, 1);
        network.dropProbability(1.0);
        network.duplicateProbability(1.0);
        network.delay(Duration.ofMillis(10), Duration.ofMillis(20));
        network.reorderProbability(1.0);

        network.heal();

        for (int from = 1; from <= 3; from++) {
            for (int to = 1; to <= 3; to++) assertTrue(network.linked(from, to), from + " -> " + to);
        }
        for (long i = 0; i < 100; i++) t[1].send(msg(1, 2, i));
        assertEquals(List.of(), differencesFromRange(in[2].drain(), 100), "all delivered at once, in order, once each");
        assertSame(Thread.currentThread(), in[2].lastThread);
        assertTrue(gets(t[3], 3, 1, in[1]));
        assertEquals(new InMemoryNetwork.Stats(101, 0, 0, 0), network.stats());
    }

    @Test
    void disconnectedNodeGetsNothingUntilItConnectsAgainWithANewSink() throws InterruptedException {
        Inbox one = new Inbox();
        Inbox oldTwo = new Inbox();
        Transport t1 = network.connect(1, one);
        Transport oldT2 = network.connect(2, oldTwo);

        network.disconnect(2);
        t1.send(msg(1, 2, 1));
        oldT2.send(msg(2, 1, 2));

        assertEquals(List.of(), oldTwo.drain());
        assertEquals(List.of(), one.drain(), "a disconnected node's transport stops sending");
        assertEquals(new InMemoryNetwork.Stats(0, 2, 0, 0), network.stats());
        assertTrue(network.linked(1, 2), "being down is not a cut link");

        Inbox newTwo = new Inbox();
        Transport newT2 = network.connect(2, newTwo);
        t1.send(msg(1, 2, 3));
        newT2.send(msg(2, 1, 4));
        oldT2.send(msg(2, 1, 5));

        assertEquals(List.of(3L), newTwo.next(1));
        assertEquals(List.of(), oldTwo.drain());
        assertEquals(List.of(4L), one.drain(), "the old transport stays stopped");
    }

    @Test
    void connectingAgainReplacesTheSinkAndRetiresTheOldTransport() {
        Inbox one = new Inbox();
        Inbox oldTwo = new Inbox();
        Inbox newTwo = new Inbox();
        Transport t1 = network.connect(1, one);
        Transport oldT2 = network.connect(2, oldTwo);

        Transport newT2 = network.connect(2, newTwo);

        assertTrue(gets(t1, 1, 2, newTwo));
        assertEquals(List.of(), oldTwo.drain());
        assertFalse(gets(oldT2, 2, 1, one));
        assertTrue(gets(newT2, 2, 1, one));
    }

    @Test
    void messagesToANodeThatNeverConnectedAreDroppedAndCounted() {
        Transport t1 = network.connect(1, new Inbox());
        t1.send(msg(1, 9, 1));
        t1.send(msg(1, 100_000, 2));
        assertEquals(new InMemoryNetwork.Stats(0, 2, 0, 0), network.stats());
    }

    @Test
    void nodesWithLargeIdsAreRoutedToo() {
        Inbox big = new Inbox();
        Inbox small = new Inbox();
        Transport tBig = network.connect(1_000_000, big);
        Transport tSmall = network.connect(1, small);

        assertTrue(gets(tSmall, 1, 1_000_000, big));
        assertTrue(gets(tBig, 1_000_000, 1, small));
        network.disconnect(1_000_000);
        assertFalse(gets(tSmall, 1, 1_000_000, big));
    }

    @Test
    void dropProbabilityOneDropsEverything() {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        network.dropProbability(1.0);

        for (long i = 0; i < 1000; i++) t1.send(msg(1, 2, i));

        assertEquals(List.of(), two.drain());
        assertEquals(new InMemoryNetwork.Stats(0, 1000, 0, 0), network.stats());
    }

    @Test
    void dropProbabilityPointThreeDropsAboutThirtyPercent() {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        network.dropProbability(0.3);

        for (long i = 0; i < 10_000; i++) t1.send(msg(1, 2, i));

        int delivered = two.drain().size();
        InMemoryNetwork.Stats stats = network.stats();
        assertEquals(10_000, stats.delivered() + stats.dropped());
        assertEquals(delivered, stats.delivered());
        assertTrue(stats.dropped() >= 2_700 && stats.dropped() <= 3_300, "dropped " + stats.dropped() + " of 10,000");
    }

    @Test
    void theSameSeedDropsTheSameMessagesWhateverOrderNodesConnectIn() {
        List<Long> first = deliveredWithDrops(7, true);
        List<Long> second = deliveredWithDrops(7, false);
        List<Long> otherSeed = deliveredWithDrops(8, true);

        assertEquals(first, second);
        assertNotEquals(first, otherSeed);
    }

    private static List<Long> deliveredWithDrops(long seed, boolean senderConnectsFirst) {
        try (InMemoryNetwork net = new InMemoryNetwork(seed)) {
            Inbox two = new Inbox();
            Transport t1 = null;
            if (senderConnectsFirst) t1 = net.connect(1, new Inbox());
            net.connect(3, new Inbox());
            net.connect(2, two);
            if (!senderConnectsFirst) t1 = net.connect(1, new Inbox());
            net.dropProbability(0.5);
            for (long i = 0; i < 1000; i++) t1.send(msg(1, 2, i));
            return two.drain();
        }
    }

    @Test
    void duplicateProbabilityOneDeliversEveryMessageTwice() {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        network.duplicateProbability(1.0);

        for (long i = 0; i < 100; i++) t1.send(msg(1, 2, i));

        List<Long> got = two.drain();
        assertEquals(200, got.size());
        for (long i = 0; i < 100; i++) {
            assertEquals(i, got.get((int) (2 * i)));
            assertEquals(i, got.get((int) (2 * i + 1)));
        }
        assertEquals(new InMemoryNetwork.Stats(200, 0, 100, 0), network.stats());
    }

    @Test
    void delayedMessagesArriveNoEarlierThanTheMinimumDelay() throws InterruptedException {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        long min = Duration.ofMillis(30).toNanos();
        network.delay(Duration.ofMillis(30), Duration.ofMillis(60));

        long[] sentAt = new long[20];
        for (int i = 0; i < 20; i++) {
            sentAt[i] = System.nanoTime();
            t1.send(msg(1, 2, i));
        }

        for (int i = 0; i < 20; i++) {
            long seq = seq(two.next());
            long arrived = two.arrivalNanos.take();
            assertTrue(arrived - sentAt[(int) seq] >= min,
                    "message " + seq + " arrived after " + (arrived - sentAt[(int) seq]) + " ns, before the minimum");
        }
        assertNotSame(Thread.currentThread(), two.lastThread, "delayed messages come from the delay thread");
        assertEquals(new InMemoryNetwork.Stats(20, 0, 0, 20), network.stats());
    }

    @Test
    void reorderHoldsSomeMessagesBackBehindLaterOnes() throws InterruptedException {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        network.reorderProbability(0.2);

        for (long i = 0; i < 200; i++) t1.send(msg(1, 2, i));

        List<Long> got = two.next(200);
        assertEquals(200, got.stream().distinct().count(), "every message arrives once");
        assertNotEquals(got.stream().sorted().toList(), got, "some message arrived out of order");
        long held = network.stats().delayed();
        assertTrue(held >= 20 && held <= 60, "held back " + held + " of 200");
    }

    @Test
    void aDelayedMessageStillArrivesAfterItsLinkIsCut() throws InterruptedException {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        network.delay(Duration.ofMillis(20), Duration.ofMillis(20));

        t1.send(msg(1, 2, 1));
        network.cut(1, 2);
        network.heal(); // clears the delay too: in-flight messages are already on their way
        network.isolate(2);

        assertEquals(List.of(1L), two.next(1));
    }

    @Test
    void aDelayedMessageToANodeThatWentDownIsDropped() throws InterruptedException {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        network.delay(Duration.ofMillis(20), Duration.ofMillis(20));

        t1.send(msg(1, 2, 1));
        network.disconnect(2);

        awaitCondition("the delayed message to be dropped", () -> network.stats().dropped() == 1);
        assertEquals(List.of(), two.drain());
        assertEquals(new InMemoryNetwork.Stats(0, 1, 0, 1), network.stats());
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        Inbox sink = new Inbox();
        assertMessage("node id must be >= 1, was 0", () -> network.connect(0, sink));
        assertMessage("node id must be >= 1, was -3", () -> network.disconnect(-3));
        assertMessage("node id must be >= 1, was 0", () -> network.isolate(0));
        assertMessage("from must be >= 1, was 0", () -> network.cut(0, 2));
        assertMessage("to must be >= 1, was 0", () -> network.linked(1, 0));
        assertMessage("cut needs two different nodes, got 2 -> 2", () -> network.cut(2, 2));
        assertMessage("drop probability must be in [0, 1], was 1.5", () -> network.dropProbability(1.5));
        assertMessage("duplicate probability must be in [0, 1], was -0.1", () -> network.duplicateProbability(-0.1));
        assertMessage("reorder probability must be in [0, 1], was NaN", () -> network.reorderProbability(Double.NaN));
        assertMessage("delay min must be >= 0, was PT-0.001S",
                () -> network.delay(Duration.ofMillis(-1), Duration.ofMillis(1)));
        assertMessage("delay max (PT0.001S) must be >= min (PT0.002S)",
                () -> network.delay(Duration.ofMillis(2), Duration.ofMillis(1)));
        assertMessage("partition needs at least one group of node ids", () -> network.partition(List.of()));
        assertMessage("partition group 2 is empty",
                () -> network.partition(List.of(Set.of(1), Set.of())));
        assertMessage("node 2 is in partition groups 1 and 2; groups must not overlap",
                () -> network.partition(List.of(List.of(1, 2), List.of(2, 3))));
        assertMessage("node id in partition group 1 must be >= 1, was 0",
                () -> network.partition(List.of(List.of(0, 1))));
        assertThrows(NullPointerException.class, () -> network.connect(1, null));

        assertEquals(new InMemoryNetwork.Stats(0, 0, 0, 0), network.stats(), "nothing half-applied");
        assertTrue(network.linked(1, 2) && network.linked(2, 3));
        assertNull(network.delayThread());
    }

    private static void assertMessage(String expectedStart, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith(expectedStart), "message was: " + e.getMessage());
    }

    @Test
    void closeStopsTheDelayThreadAndLaterCallsThrow() throws InterruptedException {
        Inbox two = new Inbox();
        Transport t1 = network.connect(1, new Inbox());
        network.connect(2, two);
        network.delay(Duration.ofMillis(1), Duration.ofMillis(1));
        t1.send(msg(1, 2, 1));
        assertEquals(List.of(1L), two.next(1));
        network.delay(Duration.ofSeconds(10), Duration.ofSeconds(10));
        t1.send(msg(1, 2, 2)); // still in flight at close
        Thread delays = network.delayThread();
        assertTrue(delays.isAlive());

        network.close();

        assertFalse(delays.isAlive(), "close() joins the delay thread");
        network.close(); // a second close does nothing
        t1.send(msg(1, 2, 3)); // a node still running when its network closes is not crashed
        assertEquals(List.of(), two.drain());
        List<Runnable> calls = List.of(
                () -> network.connect(3, new Inbox()), () -> network.disconnect(1),
                () -> network.partition(List.of(Set.of(1))), () -> network.isolate(1), () -> network.cut(1, 2),
                network::heal, () -> network.dropProbability(0), () -> network.duplicateProbability(0),
                () -> network.delay(Duration.ZERO, Duration.ZERO), () -> network.reorderProbability(0),
                () -> network.linked(1, 2), network::stats);
        for (Runnable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
            assertEquals("the network is closed", e.getMessage());
        }
    }

    @Test
    void closeWithoutDelaysHasNoThreadToStop() {
        network.connect(1, new Inbox());
        network.dropProbability(0.5);
        network.close();
        assertNull(network.delayThread());
    }
}
