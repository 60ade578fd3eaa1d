package io.raftkv.node;

/**
 * Told of a node's changes as they happen, so that nobody needs to poll its status: called on the
 * node's own thread with a fresh {@link NodeReport} whenever its role, term, leader or configuration in
 * force changes, and once more (not alive) when the node stops. It must be quick and must not block or
 * call back into the node and wait: the node does nothing else meanwhile. An exception it throws is
 * logged and otherwise ignored.
 */
@FunctionalInterface
public interface NodeListener {
    void onChange(NodeReport report);
}
