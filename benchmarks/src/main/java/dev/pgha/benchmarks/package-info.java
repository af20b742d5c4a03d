/**
 * JMH benchmarks of the engine on the in-memory DCS and fake PostgreSQL servers, on a manual
 * clock: the cost of one steady-state cycle, of a leader race, and the simulation's throughput.
 * Run them with {@code ./scripts/bench.sh jmh}; they are not part of the test command.
 */
package dev.pgha.benchmarks;
