package io.raftkv.lincheck;

import java.util.List;

/** What recording clients did, in numbers: for the line a randomized run prints. */
public record HistorySummary(int operations, int completed, int pendingWrites, int droppedGets, int gets, int puts,
                             int replaces, int deletes, int cases) {

    /** Counts {@code history}, plus {@code droppedGets} reads that failed and were not recorded. */
    public static HistorySummary of(List<Operation> history, int droppedGets) {
        int completed = 0, pending = 0, gets = 0, puts = 0, replaces = 0, deletes = 0, cases = 0;
        for (Operation op : history) {
            if (op.pending()) pending++;
            else completed++;
            switch (op.kind()) {
                case GET -> gets++;
                case PUT -> puts++;
                case REPLACE -> replaces++;
                case DELETE -> deletes++;
                case CAS -> cases++;
            }
        }
        return new HistorySummary(history.size() + droppedGets, completed, pending, droppedGets, gets, puts, replaces,
                deletes, cases);
    }

    /** Counts the histories of {@code clients} and their dropped reads. */
    public static HistorySummary of(List<Operation> history, List<RecordingClient> clients) {
        return of(history, clients.stream().mapToInt(RecordingClient::droppedGets).sum());
    }

    @Override
    public String toString() {
        return operations + " operations (" + gets + " GET, " + puts + " PUT, " + replaces + " REPLACE, " + deletes
                + " DELETE, " + cases + " CAS recorded): "
                + completed + " completed, " + pendingWrites + " writes pending (outcome unknown), " + droppedGets
                + " GETs dropped (failed)";
    }
}
