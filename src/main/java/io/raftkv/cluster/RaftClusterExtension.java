package io.raftkv.cluster;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.time.Duration;

/** The JUnit 5 extension behind {@link RaftCluster}: starts the cluster for a test and closes it after. */
public final class RaftClusterExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RaftClusterExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Cluster.class && parameter.isAnnotated(RaftCluster.class);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        RaftCluster spec = parameter.findAnnotation(RaftCluster.class).orElseThrow();
        long seed = spec.seed() != 0 ? spec.seed() : System.nanoTime();
        context.publishReportEntry("raftkv.seed", Long.toString(seed));
        System.out.println("@RaftCluster " + context.getDisplayName() + ": " + spec.nodes() + " nodes, seed " + seed);
        Cluster cluster;
        try {
            cluster = Cluster.builder().nodes(spec.nodes()).seed(seed)
                    .tickInterval(Duration.ofMillis(spec.tickMillis())).electionTicks(spec.electionTicks()).start();
        } catch (RuntimeException e) {
            throw new ParameterResolutionException("could not start a cluster for " + context.getDisplayName(), e);
        }
        // The store closes what it holds (AutoCloseable) when the test's context ends.
        context.getStore(NAMESPACE).put(parameter.getIndex() + "@" + context.getUniqueId(), (AutoCloseable) cluster::close);
        if (spec.awaitLeader()) cluster.awaitLeader(Duration.ofSeconds(10));
        return cluster;
    }
}
