package io.raftkv.app;

import io.raftkv.client.CommandFailedException;
import io.raftkv.cluster.Await;
import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import io.raftkv.junit.RaftCluster;
import io.raftkv.junit.RaftClusterExtension;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.client.SessionExpiredException;
import io.raftkv.kv.net.TcpKvConnector;
import io.raftkv.node.SnapshotPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Applications in a whole {@link Cluster}: over TCP, refusing key-value clients, choosing the right client
 * factory, through {@code @RaftCluster(app = ...)}, a restart from snapshots, and many clients under a
 * partitioning nemesis, where every acknowledged command counts exactly once.
 */
class AppClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A tally: commands add to it and answer the new total; "value" and "commands" read it. */
    public static final class Tally implements Application<Long, String, Long> {
        // Written on the node's thread; volatile so that a test may look at a node's copy.
        volatile long value;
        volatile long commands;
        final AtomicInteger restores = new AtomicInteger();

        @Override
        public Long apply(Long delta) {
            if (delta == 0) throw new IllegalArgumentException("a tally of 0 counts nothing");
            value += delta;
            commands++;
            return value;
        }

        @Override
        public Long query(String what) {
            return switch (what) {
                case "value" -> value;
                case "commands" -> commands;
                default -> throw new IllegalArgumentException("unknown query " + what);
            };
        }

        @Override
        public boolean canSnapshot() {
            return true;
        }

        @Override
        public void snapshot(OutputStream out) throws IOException {
            DataOutputStream d = new DataOutputStream(out);
            d.writeLong(value);
            d.writeLong(commands);
        }

        @Override
        public void restore(InputStream in) throws IOException {
            DataInputStream d = new DataInputStream(in);
            long v = d.readLong();
            long c = d.readLong();
            value = v;
            commands = c;
            restores.incrementAndGet();
        }
    }

    /** The tally's spec as a named class; it keeps every application it made, for a test to look at. */
    public static final class TallySpec implements AppSpec<Long, String, Long> {
        final List<Tally> made = new CopyOnWriteArrayList<>();

        @Override
        public Application<Long, String, Long> newApplication() {
            Tally t = new Tally();
            made.add(t);
            return t;
        }

        @Override public Codec<Long> commands() { return Codec.longs(); }
        @Override public Codec<String> queries() { return Codec.strings(); }
        @Override public Codec<Long> results() { return Codec.longs(); }
    }

    /** Another application's spec, of the same types. */
    public static final class WrongSpec implements AppSpec<Long, String, Long> {
        @Override public Application<Long, String, Long> newApplication() { return new Tally(); }
        @Override public Codec<Long> commands() { return Codec.longs(); }
        @Override public Codec<String> queries() { return Codec.strings(); }
        @Override public Codec<Long> results() { return Codec.longs(); }
    }

    // ---------------------------------------------------------------- TCP

    @Test
    void anApplicationRunsOverTcpAndKeyValueClientsAreRefusedSayingWhy() {
        TallySpec spec = new TallySpec();
        try (Cluster cluster = Cluster.builder().nodes(3).transport(ClusterTransport.TCP).app(spec).start()) {
            AppClient<Long, String, Long> client = cluster.newClient(spec);
            assertEquals(5, client.apply(5L));
            assertEquals(12, client.apply(7L));
            assertEquals(12, client.read("value"));
            CommandFailedException failed = assertThrows(CommandFailedException.class, () -> client.apply(0L));
            assertTrue(failed.getMessage().contains("a tally of 0 counts nothing"), failed.getMessage());
            assertThrows(CommandFailedException.class, () -> client.read("nonsense"));

            // The nodes agree over TCP: cut the leader off and the others go on with what it committed.
            int leader = cluster.awaitLeader(WAIT);
            cluster.isolate(leader);
            assertEquals(13, client.apply(1L));
            assertTrue(cluster.awaitLeader(WAIT) != leader);
            cluster.heal();
            assertEquals(3, client.read("commands"), "the failed command changed nothing");

            // A key-value client over the nodes' real sockets is refused, naming the application.
            Map<Integer, InetSocketAddress> addresses = new HashMap<>();
            for (int id : cluster.nodeIds()) addresses.put(id, cluster.address(id).orElseThrow());
            try (TcpKvConnector tcp = new TcpKvConnector(addresses, cluster.clusterId().orElseThrow());
                 KvClient kv = new KvClient(tcp, KvLimits.DEFAULT, Duration.ofSeconds(3), Duration.ofMillis(500))) {
                KvException e = assertThrows(KvException.class, () -> kv.put("k", "v"));
                assertTrue(e.getMessage().contains("refused"), e.getMessage());
                assertTrue(e.getMessage().contains(TallySpec.class.getSimpleName()), "names the application: " + e.getMessage());
                assertTrue(e.getMessage().contains("not the key-value store"), e.getMessage());
                assertThrows(KvException.class, () -> kv.get("k"));
            }
            assertEquals(13, client.read("value"), "the refused requests changed nothing");
        }
    }

    // ---------------------------------------------------------------- which client

    @Test
    void anApplicationsClusterGivesOnlyItsOwnClients() {
        TallySpec spec = new TallySpec();
        AppSpec<Long, String, Long> other = AppSpec.of(Tally::new, Codec.longs(), Codec.strings(), Codec.longs());
        try (Cluster cluster = Cluster.builder().nodes(1).app(spec).start()) {
            cluster.awaitLeader(WAIT);
            IllegalStateException kv = assertThrows(IllegalStateException.class, cluster::newClient);
            assertTrue(kv.getMessage().contains("TallySpec") && kv.getMessage().contains("newClient(spec)"), kv.getMessage());
            assertThrows(IllegalStateException.class, () -> cluster.newClient(Duration.ofSeconds(1)));

            IllegalArgumentException wrongInstance = assertThrows(IllegalArgumentException.class, () -> cluster.newClient(other));
            assertTrue(wrongInstance.getMessage().contains("TallySpec") && wrongInstance.getMessage().contains(other.toString()),
                    "names both: " + wrongInstance.getMessage());
            IllegalArgumentException wrongClass = assertThrows(IllegalArgumentException.class,
                    () -> cluster.newClient(WrongSpec.class));
            assertTrue(wrongClass.getMessage().contains("TallySpec") && wrongClass.getMessage().contains(WrongSpec.class.getName()),
                    "names both: " + wrongClass.getMessage());
            assertThrows(IllegalArgumentException.class, () -> cluster.newClient(new WrongSpec()));

            // The spec itself, another instance of its class, and its class all give a client of it.
            assertEquals(1, cluster.newClient(spec).apply(1L));
            assertEquals(3, cluster.newClient(new TallySpec()).apply(2L));
            assertEquals(6, cluster.newClient(TallySpec.class).apply(3L));
            assertEquals(Optional.of(spec), cluster.app());
        }
        // A key-value cluster gives no application client.
        try (Cluster cluster = Cluster.builder().nodes(1).start()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cluster.newClient(spec));
            assertTrue(e.getMessage().contains("key-value store"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> cluster.newClient(TallySpec.class));
            assertEquals(Optional.empty(), cluster.app());
        }
        // A spec made by AppSpec.of is itself and no other.
        try (Cluster cluster = Cluster.builder().nodes(1).app(other).start()) {
            assertEquals(4, cluster.newClient(other).apply(4L));
            AppSpec<Long, String, Long> twin = AppSpec.of(Tally::new, Codec.longs(), Codec.strings(), Codec.longs());
            assertThrows(IllegalArgumentException.class, () -> cluster.newClient(twin));
        }
    }

    // ---------------------------------------------------------------- @RaftCluster(app = ...)

    /** A spec the extension cannot make: it has no constructor without arguments. */
    public static final class NeedsArguments implements AppSpec<Long, String, Long> {
        public NeedsArguments(long start) {}

        @Override public Application<Long, String, Long> newApplication() { return new Tally(); }
        @Override public Codec<Long> commands() { return Codec.longs(); }
        @Override public Codec<String> queries() { return Codec.strings(); }
        @Override public Codec<Long> results() { return Codec.longs(); }
    }

    /** A spec whose constructor throws. */
    public static final class Explodes implements AppSpec<Long, String, Long> {
        public Explodes() {
            throw new IllegalStateException("no config file");
        }

        @Override public Application<Long, String, Long> newApplication() { return new Tally(); }
        @Override public Codec<Long> commands() { return Codec.longs(); }
        @Override public Codec<String> queries() { return Codec.strings(); }
        @Override public Codec<Long> results() { return Codec.longs(); }
    }

    /** An abstract spec: nothing to make. */
    public interface AbstractSpec extends AppSpec<Long, String, Long> {}

    // Parameters for the extension to resolve; these methods are not tests.
    @SuppressWarnings("unused")
    void needsArguments(@RaftCluster(app = NeedsArguments.class) Cluster cluster) {}

    @SuppressWarnings("unused")
    void explodes(@RaftCluster(app = Explodes.class) Cluster cluster) {}

    @SuppressWarnings("unused")
    void abstractSpec(@RaftCluster(app = AbstractSpec.class) Cluster cluster) {}

    @SuppressWarnings("unused")
    void tally(@RaftCluster(app = TallySpec.class, nodes = 1) Cluster cluster) {}

    /**
     * The extension's parameter context for the first parameter of this class's method {@code name}: the real
     * annotated parameter, as JUnit would hand it over.
     */
    private static ParameterContext parameterOf(String name) throws NoSuchMethodException {
        Parameter p = AppClusterTest.class.getDeclaredMethod(name, Cluster.class).getParameters()[0];
        return new ParameterContext() {
            @Override
            public Parameter getParameter() {
                return p;
            }

            @Override
            public int getIndex() {
                return 0;
            }

            @Override
            public Optional<Object> getTarget() {
                return Optional.empty();
            }
        };
    }

    /**
     * An extension context that answers what the extension asks (a display name, an id, no test instance)
     * and keeps what it stores, to be closed by the caller. JUnit's EngineTestKit (junit-platform-testkit)
     * is not on this project's test classpath, so the extension is driven directly.
     */
    private static ExtensionContext context(List<Object> stored) {
        ExtensionContext.Store store = (ExtensionContext.Store) Proxy.newProxyInstance(AppClusterTest.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.Store.class}, (proxy, method, args) -> {
                    if (method.getName().equals("put")) {
                        stored.add(args[1]);
                        return null;
                    }
                    throw new UnsupportedOperationException("Store." + method.getName());
                });
        InvocationHandler handler = (proxy, method, args) -> switch (method.getName()) {
            case "getTestInstance", "getTestClass", "getTestMethod", "getElement", "getParent" -> Optional.empty();
            case "getDisplayName" -> "resolving a test parameter";
            case "getUniqueId" -> "[engine:junit-jupiter]/[test:direct]";
            case "publishReportEntry" -> null;
            case "getStore" -> store;
            case "toString" -> "a test's extension context";
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> {
                if (method.isDefault()) yield InvocationHandler.invokeDefault(proxy, method, args);
                throw new UnsupportedOperationException("ExtensionContext." + method.getName());
            }
        };
        return (ExtensionContext) Proxy.newProxyInstance(AppClusterTest.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.class}, handler);
    }

    private static ParameterResolutionException unresolved(String method) throws NoSuchMethodException {
        List<Object> stored = new ArrayList<>();
        ParameterContext parameter = parameterOf(method);
        ExtensionContext context = context(stored);
        RaftClusterExtension extension = new RaftClusterExtension();
        assertTrue(extension.supportsParameter(parameter, context));
        ParameterResolutionException e = assertThrows(ParameterResolutionException.class,
                () -> extension.resolveParameter(parameter, context));
        assertTrue(stored.isEmpty(), "no cluster was started, so none is left to close: " + stored);
        return e;
    }

    @Test
    void raftClusterNamingASpecItCannotMakeFailsSayingWhy() throws Exception {
        ParameterResolutionException noArgs = unresolved("needsArguments");
        // The message JUnit reports first says what is wrong, naming the class; not only a cause further down.
        assertTrue(noArgs.getMessage().contains(NeedsArguments.class.getName())
                && noArgs.getMessage().contains("constructor without arguments"), noArgs.getMessage());

        ParameterResolutionException explodes = unresolved("explodes");
        assertTrue(explodes.getMessage().contains(Explodes.class.getName())
                && explodes.getMessage().contains("no config file"), explodes.getMessage());
        assertInstanceOf(IllegalStateException.class, explodes.getCause());

        ParameterResolutionException abstractSpec = unresolved("abstractSpec");
        assertTrue(abstractSpec.getMessage().contains(AbstractSpec.class.getName())
                && abstractSpec.getMessage().contains("not a class that can be made"), abstractSpec.getMessage());
    }

    @Test
    void raftClusterNamingASpecStartsAClusterOfIt() throws Exception {
        List<Object> stored = new ArrayList<>();
        Object resolved = new RaftClusterExtension().resolveParameter(parameterOf("tally"), context(stored));
        try {
            Cluster cluster = assertInstanceOf(Cluster.class, resolved);
            assertEquals(1, cluster.size());
            assertInstanceOf(TallySpec.class, cluster.app().orElseThrow());
            assertEquals(9, cluster.newClient(TallySpec.class).apply(9L));
        } finally {
            assertEquals(1, stored.size(), "the cluster is handed to JUnit's store to be closed: " + stored);
            ((AutoCloseable) stored.get(0)).close();
        }
    }

    // ---------------------------------------------------------------- restarts

    @Test
    void aNodeRestartedAfterSnapshotsRebuildsTheApplicationsState() {
        TallySpec spec = new TallySpec();
        // Snapshots every 512 bytes of log, keeping no entries behind them: a restart goes through one.
        try (Cluster cluster = Cluster.builder().nodes(3).app(spec)
                .snapshots(SnapshotPolicy.defaults().withLogBytes(512).withTrailingEntries(0)).start()) {
            AppClient<Long, String, Long> client = cluster.newClient(spec);
            long expected = 0;
            for (long i = 1; i <= 60; i++) expected = client.apply(i);
            assertEquals(60 * 61 / 2, expected);
            int leader = cluster.awaitLeader(WAIT);
            int follower = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            Await.until("node " + follower + " takes a snapshot", WAIT,
                    () -> cluster.snapshotStats(follower).orElseThrow().snapshotIndex() > 0, () -> cluster.snapshotStats(follower));
            cluster.kill(follower);
            int before = spec.made.size();
            // Commands while it is down, which it must catch up on after its snapshot.
            expected = client.apply(100L);
            cluster.restart(follower);
            assertEquals(before + 1, spec.made.size(), "the restarted node made a fresh application");
            Tally rebuilt = spec.made.getLast();
            long want = expected;
            Await.until("the restarted node's tally reaches " + want, WAIT, () -> rebuilt.value == want,
                    () -> "value " + rebuilt.value + ", restores " + rebuilt.restores.get() + ", " + cluster.status(follower));
            assertTrue(rebuilt.restores.get() >= 1, "rebuilt through a snapshot, not the log alone");
            assertEquals(61, rebuilt.commands);

            // Leading, it answers from the state it rebuilt, and the client's session goes on there.
            cluster.transferLeadership(follower);
            assertEquals(want, client.read("value"));
            assertEquals(want + 1, client.apply(1L));
            assertEquals(62, client.read("commands"), "no command applied twice");
        }
    }

    // ---------------------------------------------------------------- many clients under a nemesis

    private static final int CLIENTS = 8;
    private static final int COMMANDS_EACH = 50;
    private static final int NODES = 5;
    private static final Duration CLIENT_DEADLINE = Duration.ofMillis(800);

    private static List<Integer> shuffled(List<Integer> ids, SplittableRandom random) {
        List<Integer> out = new ArrayList<>(ids);
        for (int i = out.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Integer x = out.get(i);
            out.set(i, out.get(j));
            out.set(j, x);
        }
        return out;
    }

    /** What one client saw: the deltas acknowledged (with their answers) and those whose outcome is unknown. */
    private static final class Worker implements Runnable {
        final int id;
        final AppClient<Long, String, Long> client;
        final SplittableRandom random;
        long acknowledged;
        long unknown;
        int unknownCount;
        final List<Long> answers = new ArrayList<>();
        volatile Throwable failure;
        final CountDownLatch finished;

        Worker(int id, AppClient<Long, String, Long> client, SplittableRandom random, CountDownLatch finished) {
            this.finished = finished;
            this.id = id;
            this.client = client;
            this.random = random;
        }

        @Override
        public void run() {
            try {
                for (int i = 0; i < COMMANDS_EACH; i++) {
                    // The pacing of the workload (a few ms between commands), so that it spans the nemesis's faults.
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(40)));
                    long delta = 1 + random.nextInt(9);
                    try {
                        answers.add(client.apply(delta));
                        acknowledged += delta;
                    } catch (OutcomeUnknownException | SessionExpiredException e) {
                        // Applied or not; never twice.
                        unknown += delta;
                        unknownCount++;
                    }
                }
            } catch (Throwable t) {
                failure = t;
            } finally {
                finished.countDown();
            }
        }
    }

    @Test
    void manyClientsUnderANemesisCountEveryAcknowledgedCommandOnce() throws Exception {
        String property = System.getProperty("app.seed", "").trim();
        long seed = property.isEmpty() ? System.nanoTime() : Long.parseLong(property);
        System.out.println("AppClusterTest: seed " + seed + "; replay its schedule and workload (not its thread timing) with"
                + " ./mvn21 test -Dtest=AppClusterTest -Dapp.seed=" + seed);
        SplittableRandom nemesis = new SplittableRandom(seed);
        TallySpec spec = new TallySpec();
        try (Cluster cluster = Cluster.builder().nodes(NODES).seed(seed).app(spec)
                .snapshots(SnapshotPolicy.defaults().withLogBytes(4096))
                .clientDeadline(CLIENT_DEADLINE).clientAttemptTimeout(Duration.ofMillis(100)).start()) {
            cluster.awaitLeader(WAIT);
            List<Worker> workers = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            CountDownLatch finished = new CountDownLatch(CLIENTS);
            for (int c = 0; c < CLIENTS; c++) {
                Worker w = new Worker(c, cluster.newClient(spec), new SplittableRandom(seed + 1 + c), finished);
                workers.add(w);
                threads.add(Thread.ofVirtual().name("app-client-" + c).start(w));
            }
            List<String> schedule = new ArrayList<>();
            long start = System.nanoTime();
            List<Integer> dead = new ArrayList<>();
            int outageAt = nemesis.nextInt(3, 12);
            // Faults at a seeded pace until every client has finished (the wait ends as soon as they have).
            while (!finished.await(nemesis.nextLong(10, 80), TimeUnit.MILLISECONDS)) {
                String fault;
                int dice = nemesis.nextInt(100);
                if (schedule.size() == outageAt) {
                    // Once, no majority anywhere for longer than a client's deadline: the commands in flight end
                    // unknown, and some of them may still commit once the nodes can reach each other again.
                    List<Integer> ids = shuffled(cluster.nodeIds(), nemesis);
                    cluster.partition(Set.copyOf(ids.subList(0, 2)), Set.copyOf(ids.subList(2, 4)));
                    schedule.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + "ms no majority: "
                            + ids.subList(0, 2) + " | " + ids.subList(2, 4) + " | " + ids.subList(4, NODES));
                    finished.await(CLIENT_DEADLINE.toMillis() * 3 / 2, TimeUnit.MILLISECONDS);
                    cluster.heal();
                    fault = "heal";
                } else if (dice < 40) {
                    List<Integer> ids = shuffled(cluster.nodeIds(), nemesis);
                    int cut = 1 + nemesis.nextInt(NODES - 1);
                    Set<Integer> one = new TreeSet<>(ids.subList(0, cut));
                    Set<Integer> two = new TreeSet<>(ids.subList(cut, NODES));
                    cluster.partition(one, two);
                    fault = "partition " + one + " | " + two;
                } else if (dice < 55) {
                    int id = 1 + nemesis.nextInt(NODES);
                    cluster.isolate(id);
                    fault = "isolate " + id;
                } else if (dice < 65 && dead.size() < 2) {
                    // A crash now and then too: the node's commands in flight are retried elsewhere, and it comes
                    // back through its snapshot and log.
                    List<Integer> alive = new ArrayList<>(cluster.nodeIds());
                    alive.removeAll(dead);
                    int id = alive.get(nemesis.nextInt(alive.size()));
                    cluster.kill(id);
                    dead.add(id);
                    fault = "kill " + id;
                } else if (dice < 75 && !dead.isEmpty()) {
                    int id = dead.remove(nemesis.nextInt(dead.size()));
                    cluster.restart(id);
                    fault = "restart " + id;
                } else {
                    cluster.heal();
                    fault = "heal";
                }
                schedule.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + "ms " + fault);
            }
            for (Thread t : threads) {
                if (!t.join(WAIT)) fail(t.getName() + " did not finish (seed " + seed + ")");
            }
            cluster.heal();
            for (int id : dead) cluster.restart(id);
            cluster.awaitLeader(WAIT);

            long acknowledged = 0;
            long unknown = 0;
            int unknownCount = 0;
            int acknowledgedCount = 0;
            Set<Long> answers = new HashSet<>();
            for (Worker w : workers) {
                if (w.failure != null) throw new AssertionError("client " + w.id + " failed (seed " + seed + ")", w.failure);
                acknowledged += w.acknowledged;
                unknown += w.unknown;
                unknownCount += w.unknownCount;
                acknowledgedCount += w.answers.size();
                for (int i = 1; i < w.answers.size(); i++) {
                    assertTrue(w.answers.get(i) > w.answers.get(i - 1), "seed " + seed + ": client " + w.id
                            + "'s later command saw a smaller total: " + w.answers);
                }
                for (long a : w.answers) {
                    // Every delta is positive, so every command applied once leaves its own total.
                    assertTrue(answers.add(a), "seed " + seed + ": two commands answered the same total " + a);
                }
            }
            AppClient<Long, String, Long> reader = cluster.newClient(spec, WAIT);
            long total = reader.read("value");
            long commands = reader.read("commands");
            String summary = "seed " + seed + ": total " + total + ", acknowledged " + acknowledged + " in " + acknowledgedCount
                    + " commands, unknown " + unknown + " in " + unknownCount + "; faults " + schedule.size();
            System.out.println("AppClusterTest: " + summary);
            System.out.println("AppClusterTest: schedule " + schedule);
            assertTrue(total >= acknowledged && total <= acknowledged + unknown, summary + "; schedule " + schedule);
            assertTrue(commands >= acknowledgedCount && commands <= acknowledgedCount + unknownCount, summary + ", " + commands + " commands applied");
            long maxAnswer = answers.stream().mapToLong(Long::longValue).max().orElse(0);
            assertTrue(maxAnswer <= total, summary + ", largest answer " + maxAnswer);
            assertTrue(acknowledgedCount > 0, "no command was acknowledged at all: " + summary);
        }
    }
}
