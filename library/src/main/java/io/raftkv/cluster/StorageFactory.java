package io.raftkv.cluster;

import io.raftkv.storage.Storage;

/** Opens the storage of one node; called when the node starts and again each time it restarts. */
@FunctionalInterface
public interface StorageFactory {
    Storage open(int nodeId);
}
