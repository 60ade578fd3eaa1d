package io.raftkv.bench.jraft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.LeaderChangeContext;
import com.alipay.sofa.jraft.error.RaftException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The key-value map a jraft node applies committed puts to, and that node's word on whether it leads.
 * jraft calls it from the node's one FSMCaller thread; the map is also read by {@link #contents()} from
 * other threads, so each batch of entries is applied under this object's monitor (one uncontended lock
 * per batch, not per entry).
 */
final class KvStateMachine extends StateMachineAdapter {
    private final int node;
    private final Leaders leaders;
    private final Map<String, String> map = new HashMap<>();
    private final AtomicReference<RaftException> error = new AtomicReference<>();

    KvStateMachine(int node, Leaders leaders) {
        this.node = node;
        this.leaders = leaders;
    }

    /** A put as one entry: the key's length in UTF-8 bytes (an int), the key, then the value's bytes. */
    static ByteBuffer encode(String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(Integer.BYTES + k.length + v.length);
        buffer.putInt(k.length).put(k).put(v);
        return buffer.flip();
    }

    @Override
    public void onApply(Iterator iter) {
        synchronized (this) {
            while (iter.hasNext()) {
                ByteBuffer data = iter.getData();
                // Absolute reads: the buffer may be the very one the leader's client handed to apply().
                int at = data.position();
                int keyLength = data.getInt(at);
                byte[] key = new byte[keyLength];
                byte[] value = new byte[data.limit() - at - Integer.BYTES - keyLength];
                data.get(at + Integer.BYTES, key).get(at + Integer.BYTES + keyLength, value);
                map.put(new String(key, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
                Closure done = iter.done(); // set on the leader that took the put from a client in this JVM
                if (done != null) {
                    done.run(Status.OK());
                }
                iter.next();
            }
        }
    }

    @Override
    public void onLeaderStart(long term) {
        leaders.started(node, term);
    }

    @Override
    public void onLeaderStop(Status status) {
        leaders.stopped(node);
    }

    @Override
    public void onStartFollowing(LeaderChangeContext ctx) {
        leaders.termSeen(ctx.getTerm());
    }

    @Override
    public void onError(RaftException e) {
        // The node stops taking writes; a put waiting on it fails at its deadline with this as the cause.
        error.compareAndSet(null, e);
    }

    /** The error jraft reported to this state machine, if any (the node is then read-only). */
    RaftException error() {
        return error.get();
    }

    /** A copy of the map as applied so far. */
    synchronized Map<String, String> contents() {
        return new HashMap<>(map);
    }
}
