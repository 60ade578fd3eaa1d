package io.raftkv.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.raftkv.cluster.Cluster;
import io.raftkv.node.NodeListener;
import io.raftkv.node.NodeReport;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.PassObserver;
import io.raftkv.node.PassTimes;
import io.raftkv.raft.Role;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;

/**
 * raftkv's nodes as Micrometer meters, each tagged with its {@code node} id:
 * <ul>
 *   <li>gauges of each node's status: {@code raftkv.node.term}, {@code raftkv.node.last.index},
 *       {@code raftkv.node.commit.index}, {@code raftkv.node.applied.index}, {@code raftkv.node.leader} (1 on
 *       the node that leads, else 0) and {@code raftkv.node.alive};</li>
 *   <li>{@code raftkv.node.changes}: the changes of role, term, leader or configuration each node reported;</li>
 *   <li>the commit path's stages, per pass of a node's loop that did something: the timer
 *       {@code raftkv.node.pass.stage} with a {@code stage} tag (inbox, ready, send, persist, apply, answer),
 *       and the summaries {@code raftkv.node.pass.proposals}, {@code raftkv.node.pass.entries.persisted} and
 *       {@code raftkv.node.pass.entries.applied}.</li>
 * </ul>
 * It is a {@link NodeListener} and a {@link PassObserver}: give it to the cluster's builder as both, and
 * {@link #watch} the cluster once it runs. Nothing of it runs on the commit path unless it is bound.
 *
 * <pre>{@code
 * RaftkvMeters meters = new RaftkvMeters(registry);
 * Cluster cluster = Cluster.builder().listener(meters).passObserver(meters).start();
 * meters.watch(cluster);
 * }</pre>
 */
public final class RaftkvMeters implements NodeListener, PassObserver {
    private static final String[] STAGES = {"inbox", "ready", "send", "persist", "apply", "answer"};

    private final MeterRegistry registry;
    private final Map<Integer, NodeMeters> byNode = new ConcurrentHashMap<>();
    private volatile Cluster cluster;

    public RaftkvMeters(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /**
     * Registers the status gauges of {@code cluster}'s nodes, now and as nodes join later; the gauges read
     * each node's published status, which is cheap from any thread.
     *
     * @return this
     */
    public RaftkvMeters watch(Cluster cluster) {
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        for (int id : cluster.nodeIds()) meters(id);
        return this;
    }

    @Override
    public void onChange(NodeReport report) {
        meters(report.id()).changes.increment();
    }

    @Override
    public void onPass(PassTimes pass) {
        NodeMeters m = meters(pass.node());
        long[] nanos = {pass.inboxNanos(), pass.readyNanos(), pass.sendNanos(), pass.persistNanos(), pass.applyNanos(),
                pass.answerNanos()};
        for (int i = 0; i < nanos.length; i++) m.stages[i].record(nanos[i], TimeUnit.NANOSECONDS);
        m.proposals.record(pass.proposals());
        m.persisted.record(pass.entriesPersisted());
        m.applied.record(pass.entriesApplied());
    }

    private NodeMeters meters(int node) {
        return byNode.computeIfAbsent(node, NodeMeters::new);
    }

    /** One node's meters, registered once. */
    private final class NodeMeters {
        final Counter changes;
        final Timer[] stages = new Timer[STAGES.length];
        final DistributionSummary proposals;
        final DistributionSummary persisted;
        final DistributionSummary applied;

        NodeMeters(int node) {
            Tags tags = Tags.of("node", Integer.toString(node));
            changes = Counter.builder("raftkv.node.changes").tags(tags)
                    .description("Changes of role, term, leader or configuration the node reported").register(registry);
            for (int i = 0; i < STAGES.length; i++) {
                stages[i] = Timer.builder("raftkv.node.pass.stage").tags(tags).tag("stage", STAGES[i])
                        .description("Time a pass of the node's loop spent in a stage of the commit path").register(registry);
            }
            proposals = summary("raftkv.node.pass.proposals", tags, "Proposals a pass took into the log");
            persisted = summary("raftkv.node.pass.entries.persisted", tags, "Entries a pass persisted");
            applied = summary("raftkv.node.pass.entries.applied", tags, "Entries a pass applied");
            gauge("raftkv.node.term", tags, node, NodeStatus::term);
            gauge("raftkv.node.last.index", tags, node, NodeStatus::lastIndex);
            gauge("raftkv.node.commit.index", tags, node, NodeStatus::commitIndex);
            gauge("raftkv.node.applied.index", tags, node, NodeStatus::appliedIndex);
            gauge("raftkv.node.leader", tags, node, s -> s.alive() && s.role() == Role.LEADER ? 1 : 0);
            gauge("raftkv.node.alive", tags, node, s -> s.alive() ? 1 : 0);
        }

        private DistributionSummary summary(String name, Tags tags, String description) {
            return DistributionSummary.builder(name).tags(tags).description(description).register(registry);
        }

        private void gauge(String name, Tags tags, int node, ToDoubleFunction<NodeStatus> value) {
            IntFunction<NodeStatus> status = id -> {
                Cluster c = cluster;
                return c == null || !c.nodeIds().contains(id) ? null : c.status(id);
            };
            Gauge.builder(name, () -> {
                NodeStatus s = status.apply(node);
                return s == null ? Double.NaN : value.applyAsDouble(s);
            }).tags(tags).register(registry);
        }
    }
}
