package dev.pgha.rest;

import dev.pgha.ClusterAdmin;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A converged three-node simulated cluster (real controllers, in-memory DCS, fake PostgreSQL) with
 * a {@link RestApi} per member; a request that waits for an outcome steps the simulation.
 */
final class Cluster {

    final SimulatedCluster sim;

    private Cluster(SimulatedCluster sim) {
        this.sim = sim;
    }

    static Cluster converged() {
        return converged(RestSettings.defaults());
    }

    static Cluster converged(RestSettings settings) {
        SimulatedCluster sim = SimulatedCluster.builder().build();
        assertThat(sim.runUntil(SimulatedCluster::isConverged, Duration.ofMinutes(3))).as(sim.log()).isTrue();
        Cluster c = new Cluster(sim);
        c.settings = settings;
        return c;
    }

    private RestSettings settings;

    String leader() {
        return sim.leader().orElseThrow();
    }

    String replica() {
        return sim.nodes().stream().map(SimulatedNode::name).filter(n -> !n.equals(leader())).findFirst().orElseThrow();
    }

    RestApi api(String name) {
        SimulatedNode n = sim.node(name);
        return RestApi.builder().controller(n.controller()).config(n.config())
                .admin(ClusterAdmin.of(n.config(), sim.dcs().client(name + "-admin"), sim.clock()))
                .settings(settings).clock(sim.clock()).idle(sim::step).build();
    }

    RestResponse call(String name, String method, String target) {
        return api(name).handle(RestRequest.of(method, target));
    }

    RestResponse call(String name, String method, String target, String json) {
        return api(name).handle(RestRequest.of(method, target, Map.of(), json));
    }

    /** Runs the simulation for a few loop_waits, so every member published and read the latest. */
    void settle() {
        sim.runFor(Duration.ofSeconds(25));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(RestResponse r) {
        return (Map<String, Object>) (Map<?, ?>) Json.readObject(r.body());
    }
}
