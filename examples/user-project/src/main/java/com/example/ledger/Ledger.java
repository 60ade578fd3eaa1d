package com.example.ledger;

import io.raftkv.app.Application;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.TreeMap;

/**
 * Accounts and their balances, replicated: every node keeps a copy and applies the same operations in
 * the same order. Money is only deposited or moved, never lost or made twice, so the balances always add
 * up to what was deposited: the property the tests check through partitions and crashes.
 */
public final class Ledger implements Application<Ledger.Op, String, Long> {

    /** What changes the ledger. */
    public sealed interface Op {}

    /** Puts {@code amount} into {@code account}; answers the account's new balance. */
    public record Deposit(String account, long amount) implements Op {}

    /** Moves {@code amount} from one account to another; answers the new balance of {@code from}. */
    public record Transfer(String from, String to, long amount) implements Op {}

    private final Map<String, Long> balances = new TreeMap<>(); // sorted: a snapshot's bytes depend only on the state

    @Override
    public Long apply(Op op) {
        // A throw is the operation's answer, the same on every node: check everything before changing anything.
        switch (op) {
            case Deposit d -> {
                if (d.amount() <= 0) throw new IllegalArgumentException("a deposit must be positive");
                return balances.merge(d.account(), d.amount(), Math::addExact);
            }
            case Transfer t -> {
                if (t.amount() <= 0) throw new IllegalArgumentException("a transfer must be positive");
                if (t.from().equals(t.to())) throw new IllegalArgumentException("a transfer needs two accounts");
                long from = balance(t.from());
                if (from < t.amount()) {
                    throw new IllegalStateException("insufficient funds: " + t.from() + " has " + from);
                }
                balances.merge(t.to(), t.amount(), Math::addExact);
                balances.put(t.from(), from - t.amount());
                return from - t.amount();
            }
        }
    }

    /** A query is an account's name; the answer its balance (0 for an account never seen). */
    @Override
    public Long query(String account) {
        return balance(account);
    }

    private long balance(String account) {
        return balances.getOrDefault(account, 0L);
    }

    @Override
    public boolean canSnapshot() {
        return true;
    }

    @Override
    public void snapshot(OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(balances.size());
        for (Map.Entry<String, Long> e : balances.entrySet()) {
            data.writeUTF(e.getKey());
            data.writeLong(e.getValue());
        }
        data.flush();
    }

    @Override
    public void restore(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        balances.clear();
        for (int n = data.readInt(); n > 0; n--) balances.put(data.readUTF(), data.readLong());
    }
}
