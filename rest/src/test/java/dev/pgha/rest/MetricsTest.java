package dev.pgha.rest;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** {@code GET /metrics} passes {@code promtool check metrics} and carries Patroni's metrics. */
class MetricsTest {

    private static final String PROMTOOL = "/usr/bin/promtool";

    @Test
    void metricsPassPromtoolAndCarryRoleTimelineXlogPendingRestartAndPause() throws Exception {
        Cluster c = Cluster.converged();
        String leader = c.call(c.leader(), "GET", "/metrics").bodyText();
        String replica = c.call(c.replica(), "GET", "/metrics").bodyText();
        promtool(leader);
        promtool(replica);
        assertThat(leader).contains("patroni_primary{scope=\"sim\"} 1", "patroni_master{scope=\"sim\"} 1",
                "patroni_replica{scope=\"sim\"} 0", "patroni_postgres_timeline{scope=\"sim\"} 1",
                "patroni_postgres_running{scope=\"sim\"} 1", "patroni_pending_restart{scope=\"sim\"} 0",
                "patroni_is_paused{scope=\"sim\"} 0", "patroni_cluster_unlocked{scope=\"sim\"} 0",
                "patroni_postgres_server_version{scope=\"sim\"} 150004", "patroni_version{scope=\"sim\"} 000100",
                "# TYPE patroni_xlog_location gauge", "# HELP patroni_dcs_last_seen ");
        assertThat(leader).containsPattern("patroni_xlog_location\\{scope=\"sim\"} [1-9][0-9]*\n");
        assertThat(replica).contains("patroni_primary{scope=\"sim\"} 0", "patroni_replica{scope=\"sim\"} 1",
                "patroni_xlog_paused{scope=\"sim\"} 0", "patroni_sync_standby{scope=\"sim\"} 0");
        assertThat(replica).containsPattern("patroni_xlog_replayed_location\\{scope=\"sim\"} [1-9][0-9]*\n")
                .containsPattern("patroni_xlog_received_location\\{scope=\"sim\"} [1-9][0-9]*\n");
    }

    /** Runs promtool on the text; fails (never skips) when promtool is missing. */
    private static void promtool(String metrics) throws Exception {
        if (!new File(PROMTOOL).canExecute()) {
            fail(PROMTOOL + " is missing: install Debian's prometheus package (./scripts/deps.sh does)");
        }
        Process p = new ProcessBuilder(PROMTOOL, "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(metrics.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("promtool check metrics: " + out + "\n" + metrics).isZero();
    }
}
