/**
 * Runnable examples of pgha, around the agent ({@code dev.pgha.agent}, module pgha-agent).
 * {@link dev.pgha.examples.RealDemo} is a guided tour of a three-node cluster on real PostgreSQL
 * servers (in-memory DCS, real time); {@link dev.pgha.examples.SimulatedDemo} the same kind of
 * tour on a simulated cluster (fake PostgreSQL, manual clock). {@link dev.pgha.examples.AgentCluster}
 * runs agents on real PostgreSQL and etcd for the tests and {@link dev.pgha.examples.FailoverBench}.
 */
package dev.pgha.examples;
