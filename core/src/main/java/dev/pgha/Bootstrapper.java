package dev.pgha;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.StopMode;
import java.util.Comparator;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An empty data directory: Patroni's {@code bootstrap()} (the {@code initialize} race and
 * initdb), {@code clone()} from a member, and {@code post_bootstrap()}.
 *
 * <p>One deliberate difference from Patroni: the bootstrap winner takes the leader key as soon as
 * its new primary runs, before post-bootstrap work, so that no writable primary ever exists
 * without the lock. Others wait for the leader key before cloning, as in Patroni.
 */
final class Bootstrapper {

    private static final Logger log = LoggerFactory.getLogger(Bootstrapper.class);

    private final Node node;
    private final Demotion demotion;

    Bootstrapper(Node node, Demotion demotion) {
        this.node = node;
        this.demotion = demotion;
    }

    /** The data directory is empty: initialize a new cluster, clone from a member, or wait. */
    Step bootstrap(Cycle c) {
        ClusterView cluster = c.cluster;
        boolean mayInitialize = cluster.isUnlocked() && cluster.initialize() == null
                && node.config.tags().canFailover();
        if (mayInitialize && !c.state.guardCapable()) {
            // The winner becomes the first primary: a node that may not be primary leaves it to others.
            log.warn("{}: Watchdog device is not usable: not racing to bootstrap the cluster", node.name);
        } else if (mayInitialize) {
            if (node.dcs.initialize("")) {
                c.state = c.state.withBootstrapping(true);
                return node.start(c, "bootstrap", LongAction.Kind.BOOTSTRAP, node.postgres.bootstrap(),
                        this::afterInitdb, Step.of(CycleAction.BOOTSTRAP, "trying to bootstrap a new cluster"));
            }
            return Step.of(CycleAction.WAIT, "failed to acquire initialize lock");
        }
        // The initialize key is "" while the winner still runs initdb and post_bootstrap (which
        // creates the replication role): clone only once it holds the system identifier, as
        // Patroni does by taking the leader key only after post_bootstrap.
        boolean leaderStillBootstrapping = cluster.initialize() != null && cluster.initialize().isEmpty();
        if (!cluster.isUnlocked() && !leaderStillBootstrapping) {
            Member source = cloneSource(cluster);
            boolean fromLeader = cluster.isLeader(source.name());
            String what = (fromLeader ? "leader" : "replica") + " '" + source.name() + "'";
            return node.start(c, "bootstrap from " + what, LongAction.Kind.CLONE, node.postgres.cloneFrom(source),
                    (later, ok, detail) -> afterClone(later, what, ok, detail),
                    Step.of(CycleAction.CLONE, "trying to bootstrap from " + what));
        }
        return Step.of(CycleAction.WAIT, "waiting for leader to bootstrap");
    }

    /** A running member tagged {@code clonefrom} (not me, not the leader), else the leader. */
    private Member cloneSource(ClusterView cluster) {
        String leader = cluster.leaderName().orElse("");
        Optional<Member> tagged = cluster.members().stream()
                .filter(m -> m.tags().cloneFrom() && m.isRunning())
                .filter(m -> !m.name().equals(node.name) && !m.name().equals(leader))
                .min(Comparator.comparing(Member::name));
        return tagged.orElseGet(() -> cluster.leaderMember().orElseThrow());
    }

    private Step afterClone(Cycle c, String what, boolean ok, String detail) {
        if (!ok) {
            log.error("{}: failed to bootstrap from {}: {}", node.name, what, detail);
            node.postgres.removeDataDirectory();
            return Step.of(CycleAction.FAILED, "failed to bootstrap from " + what);
        }
        log.info("{}: bootstrapped from {}", node.name, what);
        node.setRole(c, PostgresRole.REPLICA);
        demotion.startFollowing(c, node.nodeToFollow(c.cluster).orElse(null), "bootstrap from " + what);
        return null;
    }

    private Step afterInitdb(Cycle c, boolean ok, String detail) {
        if (!ok) {
            return cancelInitialization(c, detail);
        }
        node.setRole(c, PostgresRole.PRIMARY);
        if (!node.lock.acquire(c) && !node.lock.update(c)) {
            log.error("{}: somebody else holds the leader key after bootstrap; stepping down", node.name);
            return cancelInitialization(c, "leader key taken by another member during bootstrap");
        }
        node.start(c, "post_bootstrap", LongAction.Kind.POST_BOOTSTRAP, node.postgres.postBootstrap(),
                this::afterPostBootstrap, null);
        return Step.of(CycleAction.BOOTSTRAP, "running post_bootstrap");
    }

    private Step afterPostBootstrap(Cycle c, boolean ok, String detail) {
        if (!ok) {
            return cancelInitialization(c, detail);
        }
        if (!node.lock.guardActivated()) {
            log.error("{}: Cancelling bootstrap because watchdog activation failed", node.name);
            return cancelInitialization(c, "watchdog activation failed");
        }
        c.state = c.state.withBootstrapping(false);
        String sysid = node.postgres.status().systemIdentifier();
        if (sysid == null) {
            sysid = node.postgres.controlData().systemIdentifier();
        }
        node.dcs.setInitialize(sysid);
        node.dcs.setConfig(new ClusterConfig(node.config.bootstrapDcs().toConfig(), 0), 0);
        demotion.sync.beforePrimaryStart(c);
        node.callback(c, HaListener.Callback.ON_START);
        return Step.of(CycleAction.BOOTSTRAP, "initialized a new cluster");
    }

    /** Patroni's {@code cancel_initialization()}: give the initialize key back, stop and wipe. */
    Step cancelInitialization(Cycle c, String detail) {
        log.error("{}: Failed to bootstrap cluster: {}", node.name, detail);
        c.state = c.state.withBootstrapping(false);
        node.lock.release(c);
        node.dcs.cancelInitialization();
        node.setRole(c, PostgresRole.UNINITIALIZED);
        if (node.postgres.status().postmasterRunning()) {
            node.start(c, "cancel bootstrap", LongAction.Kind.BOOTSTRAP, node.postgres.stop(StopMode.IMMEDIATE, false),
                    (later, stopped, d) -> {
                        if (stopped) {
                            node.postgres.removeDataDirectory();
                        }
                        return null;
                    }, null);
        } else {
            node.postgres.removeDataDirectory();
        }
        return Step.of(CycleAction.FAILED, "Failed to bootstrap cluster");
    }
}
