package io.raftkv.node;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * One pass of a node's loop as a JFR event, with the time spent in each stage of the commit path:
 * taking the inbox into the core (proposals appended, messages stepped), building the ready batch
 * (replication), sending, persisting, applying and answering. Off unless a recording enables it
 * ({@code jfr configure} or a .jfc naming {@code io.raftkv.NodePass}); a pass that did nothing is not
 * recorded. The event's own duration is the whole pass.
 */
@Name("io.raftkv.NodePass")
@Label("Raft node pass")
@Category({"raftkv", "Commit path"})
@Description("One pass of a raftkv node's loop: inbox, core, send, persist, apply, answer")
@Enabled(false)
@StackTrace(false)
final class NodePassEvent extends Event {
    @Label("Node")
    int node;

    @Label("Leader")
    boolean leader;

    @Label("Inbox items")
    int inboxItems;

    @Label("Proposals")
    @Description("Proposals taken from the inbox and appended by the core")
    int proposals;

    @Label("Longest inbox wait")
    @Description("From a client's proposal entering the inbox until this pass took it")
    @Timespan(Timespan.NANOSECONDS)
    long longestInboxWait;

    @Label("Inbox and core")
    @Description("Taking the inbox: appending proposals, stepping messages into the core")
    @Timespan(Timespan.NANOSECONDS)
    long inboxNanos;

    @Label("Ready")
    @Description("Building ready batches: replication to each follower, commit, reads")
    @Timespan(Timespan.NANOSECONDS)
    long readyNanos;

    @Label("Send")
    @Timespan(Timespan.NANOSECONDS)
    long sendNanos;

    @Label("Persist")
    @Timespan(Timespan.NANOSECONDS)
    long persistNanos;

    @Label("Entries persisted")
    int entriesPersisted;

    @Label("Bytes persisted")
    @DataAmount
    long bytesPersisted;

    @Label("Apply")
    @Timespan(Timespan.NANOSECONDS)
    long applyNanos;

    @Label("Entries applied")
    int entriesApplied;

    @Label("Answer")
    @Description("Publishing the status and answering clients")
    @Timespan(Timespan.NANOSECONDS)
    long answerNanos;

    @Label("Answers")
    int answers;

    /** These figures as a {@link PassObserver} gets them. */
    PassTimes times() {
        return new PassTimes(node, leader, inboxItems, proposals, inboxNanos, readyNanos, sendNanos, persistNanos,
                entriesPersisted, bytesPersisted, applyNanos, entriesApplied, answerNanos, answers);
    }
}
