/** raftkv's nodes as Micrometer meters: their status, leadership changes and the commit path's stage times. */
module io.raftkv.micrometer {
    requires transitive io.raftkv;
    requires transitive micrometer.core;

    exports io.raftkv.micrometer;
}
