/**
 * raftkv's nodes as Micrometer meters: {@link io.raftkv.micrometer.RaftkvMeters} shows each node's status,
 * the changes it reports and the commit path's stages per pass of its loop, at no cost while unbound.
 */
package io.raftkv.micrometer;
