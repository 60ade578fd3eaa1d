/**
 * What a client call throws when it could not do what it was asked, shared by the key-value store's
 * client and your own application's: {@link io.raftkv.client.ClientException} and its kinds. They say
 * what a caller may assume about a write: {@link io.raftkv.client.OutcomeUnknownException}, that no node
 * confirmed it before the deadline, so it may or may not have been applied but never twice;
 * {@link io.raftkv.client.SessionExpiredException}, that the cluster evicted the client's session between
 * tries, so an earlier try may have been applied; {@link io.raftkv.client.CommandFailedException}, that
 * the state machine itself refused the command, the same answer on every node. {@link io.raftkv.client.ReadFrom}
 * says which nodes a client's reads go to.
 */
package io.raftkv.client;
