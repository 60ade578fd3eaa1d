package io.raftkv.junit;

import io.raftkv.app.AppSpec;
import io.raftkv.cluster.ClusterTransport;
import io.raftkv.raft.ReadPolicy;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Injects a started {@link io.raftkv.cluster.Cluster} into a JUnit 5 test method parameter, and closes it
 * after the test: {@code @Test void t(@RaftCluster(nodes = 5) Cluster cluster)}. The seed and transport are
 * printed. It runs the key-value store, or your own application:
 * {@code @RaftCluster(app = CounterSpec.class)}, whose clients come from
 * {@code cluster.newClient(CounterSpec.class)}.
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RaftClusterExtension.class)
public @interface RaftCluster {
    /** {@return how many nodes the cluster has} */
    int nodes() default 3;

    /** {@return the seed; 0 means one drawn from the clock, printed so that a run can be repeated} */
    long seed() default 0;

    /** {@return the length of a tick in milliseconds} */
    int tickMillis() default 5;

    /** {@return the election timeout in ticks} */
    int electionTicks() default 10;

    /** {@return how the leader confirms reads: ReadIndex, or its lease (see {@code Cluster.Builder#readPolicy})} */
    ReadPolicy readPolicy() default ReadPolicy.READ_INDEX;

    /** {@return whether to wait for a leader before the test starts} */
    boolean awaitLeader() default true;

    /**
     * How the nodes talk. A test class with a non-null field of type {@link ClusterTransport} (such as a
     * {@code @ParameterizedClass} parameter) overrides this, so that one class runs its scenarios in both modes.
     *
     * @return the transport between the nodes
     */
    ClusterTransport transport() default ClusterTransport.IN_MEMORY;

    /**
     * The application the nodes run: a class implementing {@link AppSpec} with a public no-argument
     * constructor, made once per cluster. The default, {@link KeyValueStore}, runs the key-value store.
     *
     * @return the application's spec
     */
    Class<? extends AppSpec<?, ?, ?>> app() default KeyValueStore.class;

    /** Names the key-value store in {@link #app()}: not an application to run, only the default. */
    interface KeyValueStore extends AppSpec<Void, Void, Void> {}
}
