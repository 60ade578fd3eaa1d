/**
 * A raftkv cluster in a JUnit 5 test: a test method parameter of type {@link io.raftkv.cluster.Cluster}
 * annotated {@link io.raftkv.junit.RaftCluster} is a cluster started for that test (its nodes, timing,
 * transport and seed set on the annotation, running the key-value store or the application that
 * {@code app} names), by default with a leader elected before the test begins, and closed after it. The
 * seed is published to the test report and logged, so that a failing run can be repeated with
 * {@code @RaftCluster(seed = ...)}. The extension, {@link io.raftkv.junit.RaftClusterExtension}, is
 * registered by the annotation itself; JUnit 5 comes from the project's own test dependencies.
 */
package io.raftkv.junit;
