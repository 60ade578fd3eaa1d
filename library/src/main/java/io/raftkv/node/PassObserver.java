package io.raftkv.node;

/**
 * Told, on the node's thread, where each pass of its loop that did something spent its time: the
 * commit path's stages for a metrics registry. Bound, it costs the clock readings of each stage and a
 * record per pass; unbound (the default), nothing. It must be quick and must not block; what it throws
 * is logged and ignored.
 */
@FunctionalInterface
public interface PassObserver {
    void onPass(PassTimes pass);
}
