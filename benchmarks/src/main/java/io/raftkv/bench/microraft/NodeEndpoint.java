package io.raftkv.bench.microraft;

import io.microraft.RaftEndpoint;

/** A MicroRaft group member, named by its number; a record, so MicroRaft can use it as a map key. */
record NodeEndpoint(int id) implements RaftEndpoint {
    @Override
    public Object getId() {
        return id;
    }
}
