package io.raftkv.app;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * An {@link Application} as a cluster and its clients know it: how to make a fresh one (each node
 * holds its own), and the codecs of its commands, queries and answers. Make one with {@link #of}, and
 * keep it in a constant that both the cluster and its clients use; or implement this interface in a
 * named class with a no-argument constructor, which {@code @RaftCluster(app = ...)} can name (a
 * cluster takes any instance of such a class as its own spec).
 *
 * @param <C> the commands
 * @param <Q> the queries
 * @param <R> the answers
 */
public interface AppSpec<C, Q, R> {
    /** A new application in its initial state; called once per node start. */
    Application<C, Q, R> newApplication();

    /** How commands are written into the log. */
    Codec<C> commands();

    /** How queries are written for a node in another process. */
    Codec<Q> queries();

    /** How answers are written into snapshots (the sessions' last answers) and for a client in another process. */
    Codec<R> results();

    /** A spec of these parts. Two specs from two calls are not equal: keep the one you make. */
    static <C, Q, R> AppSpec<C, Q, R> of(Supplier<? extends Application<C, Q, R>> factory, Codec<C> commands,
                                         Codec<Q> queries, Codec<R> results) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(commands, "commands");
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(results, "results");
        return new AppSpec<>() {
            @Override
            public Application<C, Q, R> newApplication() {
                return Objects.requireNonNull(factory.get(), "the application factory returned null");
            }

            @Override
            public Codec<C> commands() {
                return commands;
            }

            @Override
            public Codec<Q> queries() {
                return queries;
            }

            @Override
            public Codec<R> results() {
                return results;
            }

            @Override
            public String toString() {
                return "AppSpec.of(" + factory + ")";
            }
        };
    }
}
