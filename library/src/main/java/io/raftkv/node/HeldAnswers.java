package io.raftkv.node;

import java.util.ArrayList;

/**
 * Answers a node holds back until it has published the status they reflect (whoever hears of a commit
 * must find it in the node's status): each a reply and its result, or a refusal, delivered in the order
 * given. Two lists rather than a record per answer, so a steady pass allocates nothing here. The node's
 * thread only.
 */
final class HeldAnswers {
    /** A refusal among the answers: not the leader (any more), try {@code leaderHint}. */
    private record Refusal(int leaderHint) {}

    private final ArrayList<Reply> replies = new ArrayList<>();
    private final ArrayList<Object> results = new ArrayList<>();

    /** {@code reply} is to be told {@code result}. */
    void ok(Reply reply, Object result) {
        replies.add(reply);
        results.add(result);
    }

    /** {@code reply} is to be told this node is not the leader, and to try {@code leaderHint}. */
    void notLeader(Reply reply, int leaderHint) {
        replies.add(reply);
        results.add(new Refusal(leaderHint));
    }

    int size() {
        return replies.size();
    }

    /** Tells every reply its answer, in order, and forgets them. */
    void deliver() {
        for (int i = 0, n = replies.size(); i < n; i++) {
            Object result = results.get(i);
            if (result instanceof Refusal refusal) replies.get(i).notLeader(refusal.leaderHint());
            else replies.get(i).ok(result);
        }
        replies.clear();
        results.clear();
    }
}
