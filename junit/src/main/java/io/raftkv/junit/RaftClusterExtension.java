package io.raftkv.junit;

import io.raftkv.app.AppSpec;
import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;

/** The JUnit 5 extension behind {@link RaftCluster}: starts the cluster for a test and closes it after. */
public final class RaftClusterExtension implements ParameterResolver {
    private static final System.Logger LOG = System.getLogger(RaftClusterExtension.class.getName());
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RaftClusterExtension.class);

    /** Made by JUnit for the parameters annotated {@link RaftCluster}, which names this extension. */
    public RaftClusterExtension() {}

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Cluster.class && parameter.isAnnotated(RaftCluster.class);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        RaftCluster spec = parameter.findAnnotation(RaftCluster.class).orElseThrow();
        long seed = spec.seed() != 0 ? spec.seed() : System.nanoTime();
        ClusterTransport transport = transportChosenBy(context.getTestInstance().orElse(null), spec.transport());
        context.publishReportEntry("raftkv.seed", Long.toString(seed));
        // The seed goes to the log as well as the test report, so that a failing run can be replayed.
        LOG.log(System.Logger.Level.INFO, () -> "@RaftCluster " + context.getDisplayName() + ": " + spec.nodes()
                + " nodes, " + transport + ", seed " + seed + " (replay with @RaftCluster(seed = " + seed + "L))");
        Cluster cluster;
        try {
            Cluster.Builder builder = Cluster.builder().nodes(spec.nodes()).seed(seed).transport(transport)
                    .tickInterval(Duration.ofMillis(spec.tickMillis())).electionTicks(spec.electionTicks())
                    .readPolicy(spec.readPolicy());
            if (spec.app() != RaftCluster.KeyValueStore.class) builder.app(newSpec(spec.app()));
            cluster = builder.start();
        } catch (ParameterResolutionException e) {
            // newSpec's own report (no constructor without arguments, say), naming the class: reported as it is,
            // not under "could not start a cluster", which buried it in a cause (no cluster was started).
            throw e;
        } catch (RuntimeException e) {
            throw new ParameterResolutionException("could not start a cluster for " + context.getDisplayName(), e);
        }
        // The store closes what it holds (AutoCloseable) when the test's context ends.
        context.getStore(NAMESPACE).put(parameter.getIndex() + "@" + context.getUniqueId(), (AutoCloseable) cluster::close);
        if (spec.awaitLeader()) cluster.awaitLeader(Duration.ofSeconds(10));
        return cluster;
    }

    /** A new instance of the application spec that {@code @RaftCluster(app = ...)} names. */
    private static AppSpec<?, ?, ?> newSpec(Class<? extends AppSpec<?, ?, ?>> type) {
        if (type.isInterface() || java.lang.reflect.Modifier.isAbstract(type.getModifiers())) {
            throw new ParameterResolutionException("@RaftCluster(app = " + type.getName() + ".class): not a class that can be made");
        }
        try {
            java.lang.reflect.Constructor<? extends AppSpec<?, ?, ?>> c = type.getDeclaredConstructor();
            c.setAccessible(true); // a spec nested in a test class is often not public
            return c.newInstance();
        } catch (NoSuchMethodException e) {
            throw new ParameterResolutionException("@RaftCluster(app = " + type.getName()
                    + ".class) needs a constructor without arguments", e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            throw new ParameterResolutionException("@RaftCluster(app = " + type.getName() + ".class) could not be made: " + cause, cause);
        }
    }

    /** The value of the test instance's first non-null field of type ClusterTransport, else {@code fallback}. */
    private static ClusterTransport transportChosenBy(Object testInstance, ClusterTransport fallback) {
        for (Class<?> c = testInstance == null ? null : testInstance.getClass(); c != null && c != Object.class;
             c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.getType() != ClusterTransport.class || Modifier.isStatic(f.getModifiers())) continue;
                try {
                    f.setAccessible(true);
                    Object v = f.get(testInstance);
                    if (v != null) return (ClusterTransport) v;
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new ParameterResolutionException("cannot read the test's ClusterTransport field " + f, e);
                }
            }
        }
        return fallback;
    }
}
