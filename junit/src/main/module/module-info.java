/** {@code @RaftCluster}: a started raftkv cluster as a JUnit 5 test parameter, closed after the test. */
module io.raftkv.junit {
    requires transitive io.raftkv;
    requires transitive org.junit.jupiter.api;

    exports io.raftkv.junit;
}
