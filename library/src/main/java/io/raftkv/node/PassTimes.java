package io.raftkv.node;

/**
 * Where one pass of a node's loop spent its time, stage by stage, as a {@link PassObserver} gets it (the
 * same figures as the {@code io.raftkv.NodePass} JFR event): taking the inbox into the core, building
 * the ready batches, sending, persisting, applying, and publishing the status and answering clients.
 * Times are in nanoseconds.
 */
public record PassTimes(int node, boolean leader, int inboxItems, int proposals, long inboxNanos, long readyNanos,
                        long sendNanos, long persistNanos, int entriesPersisted, long bytesPersisted, long applyNanos,
                        int entriesApplied, long answerNanos, int answers) {}
