/**
 * The pgha test kit: {@link dev.pgha.testing.ManualClock}, a deterministic
 * {@link dev.pgha.testing.FakePostgres} whose servers live in a shared
 * {@link dev.pgha.testing.FakeWorld} (replication, divergence, fault scripting), and concise
 * {@link dev.pgha.cluster.ClusterView} builders ({@link dev.pgha.testing.Clusters},
 * {@link dev.pgha.testing.Members}); for adapters and real servers, the
 * {@link dev.pgha.testing.EtcdServer} and {@link dev.pgha.testing.HaproxyServer} launchers,
 * {@link dev.pgha.testing.TestCertificates}, and
 * {@link dev.pgha.testing.DcsClientContractTest}, the contract suite every
 * {@link dev.pgha.dcs.DcsClient} adapter runs.
 */
package dev.pgha.testing;
