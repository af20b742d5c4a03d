/**
 * pgha as a program, one per PostgreSQL server, the way Patroni runs: {@link dev.pgha.agent.Agent}
 * (run, {@code list}, {@code switchover}, {@code failover}), configured by a settings file
 * ({@link dev.pgha.agent.AgentSettings}) and driven by an {@link dev.pgha.agent.AgentLoop}.
 */
package dev.pgha.agent;
