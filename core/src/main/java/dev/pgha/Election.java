package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.SyncState;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may lead: Patroni's healthiest-node rules and failover-candidate checks, decided from the
 * cluster view (the WAL positions, timelines and tags members publish in the DCS) and this
 * node's own PostgreSQL status. Pure decisions: no DCS or PostgreSQL calls.
 *
 * <p>A member that publishes {@code watchdog_failed} (its required fencing guard cannot be
 * activated) is treated like one tagged {@code nofailover}: never a candidate, and ignored when
 * comparing WAL positions.
 *
 * <p>A member counts as reachable while its member key exists (it expires {@code ttl} after the
 * node stopped publishing): that is what Patroni learns from a member's REST API.
 */
final class Election {

    private static final Logger log = LoggerFactory.getLogger(Election.class);

    private final String me;
    private final MemberTags tags;
    private final ClusterSettings config;

    /**
     * @param me       this member's name
     * @param tags     this member's tags
     * @param settings the cluster-wide settings in force ({@code maximum_lag_on_failover},
     *                 {@code check_timeline})
     */
    Election(String me, MemberTags tags, ClusterSettings settings) {
        this.me = me;
        this.tags = tags;
        this.config = settings;
    }

    /**
     * Patroni's {@code is_healthiest_node()} for an unlocked cluster: whether this node should
     * race for the lock.
     *
     * @param formerLeader the leader of the last view that had one (null if none)
     */
    boolean isHealthiestNode(ClusterView cluster, PostgresStatus pg, String formerLeader) {
        boolean paused = config.pause();
        if (paused && tags.canFailover() && cluster.failover() != null && cluster.failover().scheduledAt() == null) {
            // In maintenance mode only a manual request moves the lock.
            return manualFailoverProcessNoLeader(cluster, pg);
        }
        if (pg.state() == PostgresState.STARTING) {
            return false;
        }
        if (pg.isRunningPrimary()) {
            if (paused && cluster.hasValidInitialize() && !cluster.initialize().equals(pg.systemIdentifier())) {
                return false; // in pause a primary takes the lock only for the cluster it belongs to
            }
            long clusterTimeline = cluster.timeline();
            if (pg.timeline() < clusterTimeline) {
                log.warn("{}: My timeline {} is behind last known cluster timeline {}", me, pg.timeline(),
                        clusterTimeline);
                return false;
            }
            return true;
        }
        if (paused || !tags.canFailover()) {
            return false;
        }
        if (cluster.failover() != null) {
            // In synchronous mode only the synchronous standbys and the former leader race for a switchover.
            if (cluster.failover().leader() != null && syncActive(cluster) && !cluster.sync().matches(me)) {
                return false;
            }
            return manualFailoverProcessNoLeader(cluster, pg);
        }
        List<Member> members = cluster.members();
        if (syncActive(cluster)) {
            if (!quorumActive(cluster) && !cluster.sync().matches(me)) {
                return false; // not synchronous: it may lack acknowledged commits
            }
            members = members.stream().filter(m -> cluster.sync().matches(m.name())).toList();
        }
        return isHealthiestAmong(members, cluster, pg, true, formerLeader);
    }

    /**
     * Patroni's {@code manual_failover_process_no_leader()}: the cluster is unlocked and a
     * switchover or failover request exists.
     */
    boolean manualFailoverProcessNoLeader(ClusterView cluster, PostgresStatus pg) {
        Failover failover = cluster.failover();
        String action = failover.actionName();
        if (me.equals(failover.candidate())) {
            return true;
        }
        if (config.pause()) {
            return false; // a request for another member (or for none) waits for it, or for the operator
        }
        if (failover.candidate() != null && config.synchronousMode() == ClusterSettings.SynchronousMode.ON
                && (cluster.sync() == null || !cluster.sync().matches(me))) {
            return false; // not synchronous: never take over for another, even an unhealthy one
        }
        if (failover.candidate() != null) {
            Optional<String> limitation = limitation(cluster, failover.candidate());
            if (limitation.isEmpty()) {
                log.info("{}: {}: to {}, i am {}", me, action, failover.candidate(), me);
                return false;
            }
            log.warn("{}: {}: member {} is {}", me, action, failover.candidate(), limitation.get());
        }
        if (me.equals(failover.leader())) {
            return !isFailoverPossible(cluster, 0, null, action);
        }
        boolean sync = syncActive(cluster);
        List<Member> members = cluster.members().stream()
                .filter(m -> !m.name().equals(failover.leader()))
                .filter(m -> !sync || cluster.sync().syncStandbys().contains(m.name())).toList();
        return isHealthiestAmong(members, cluster, pg, false, null);
    }

    /**
     * Patroni's {@code _is_healthiest_node()}: no reachable member that may be promoted is a
     * running primary, is ahead of this node, or is equally far with a higher priority.
     */
    boolean isHealthiestAmong(List<Member> members, ClusterView cluster, PostgresStatus pg,
                              boolean checkReplicationLag, String formerLeader) {
        long myPosition = pg.walPosition().value();
        if (checkReplicationLag && isLagging(cluster, myPosition, 0)) {
            log.info("{}: My wal position exceeds maximum replication lag", me);
            log.debug("{}: my wal position {}, the cluster's {}, maximum_lag_on_failover {}", me, myPosition,
                    cluster.status().optime(), config.maximumLagOnFailover());
            return false;
        }
        if (config.checkTimeline()) {
            if (pg.timeline() == 0) {
                log.info("{}: Can not figure out my timeline", me);
                return false;
            }
            if (pg.timeline() < cluster.timeline()) {
                log.info("{}: My timeline {} is behind last known cluster timeline {}", me, pg.timeline(),
                        cluster.timeline());
                return false;
            }
        }
        int myPriority = tags.failoverPriority();
        long clusterTimeline = cluster.timeline();
        boolean sync = syncActive(cluster);
        boolean quorumMode = quorumActive(cluster);
        Set<String> voters = quorumMode ? votingSet(cluster.sync()) : Set.of();
        int votes = voters.contains(me) ? 0 : -1;
        int ahead = 0;
        String leaderName = sync ? cluster.sync().leader() : formerLeader;
        for (Member m : members) {
            if (m.name().equals(me) || !m.tags().canFailover() || m.watchdogFailed()) {
                continue; // a member that may not promote neither blocks nor wins (Patroni's failover_limitation)
            }
            if (config.checkTimeline() && clusterTimeline > 0 && m.timeline() != null
                    && m.timeline() < clusterTimeline) {
                // It cannot win (its timeline is behind the cluster's), so its position, past
                // the fork and not comparable with ours, must not veto the race either.
                continue;
            }
            if (m.isPrimaryRole() && m.isRunning()) {
                log.warn("{}: Primary ({}) is still alive", me, m.name());
                return false;
            }
            // Positions compare only on one timeline. A member on a later timeline has a promotion
            // in its history that this node lacks (what it acknowledged since may be only there),
            // whatever the numbers say; one on an earlier timeline has, past the fork, only WAL that
            // no later primary kept. (Patroni compares the positions alone.)
            Long theirTimeline = m.timeline();
            boolean sameTimeline = pg.timeline() == 0 || theirTimeline == null || theirTimeline == pg.timeline();
            if (!sameTimeline && theirTimeline < pg.timeline()) {
                continue;
            }
            long position = m.walPosition();
            if (!sameTimeline || Long.compareUnsigned(position, myPosition) > 0) {
                ahead++;
                if (sameTimeline) {
                    log.info("{}: Wal position of {} is ahead of my wal position", me, m.name());
                } else {
                    log.info("{}: Timeline {} of {} is ahead of my timeline {}", me, theirTimeline, m.name(),
                            pg.timeline());
                }
                // In synchronous mode the former leader may still be reachable, and ahead with
                // commits nobody acknowledged: it does not disqualify a synchronous standby.
                if (!sync || !m.name().equals(cluster.sync().leader())) {
                    return false;
                }
                log.info("{}: Ignoring the former leader being ahead of us", me);
                continue;
            }
            if (position == 0) {
                continue; // only members with PostgreSQL up vote
            }
            boolean lowPriority = position == myPosition && m.tags().failoverPriority() > myPriority;
            if (lowPriority && m.name().equals(leaderName)) {
                log.info("{}: Ignoring former leader {} having priority {} higher than this nodes {} priority",
                        me, m.name(), m.tags().failoverPriority(), myPriority);
                lowPriority = false;
            }
            if (lowPriority && (!quorumMode || voters.contains(m.name()))) {
                log.info("{}: {} has equally tolerable WAL position and priority {}, while this node has priority {}",
                        me, m.name(), m.tags().failoverPriority(), myPriority);
                return false;
            }
            if (voters.contains(m.name())) {
                // A position read while a leader ran (a frozen agent's, say) may lack commits the
                // member acknowledged since: only one read with no leader key, under this sync key, votes.
                Long vote = m.quorumVote();
                if (vote != null && vote == cluster.sync().version()) {
                    log.info("{}: Got quorum vote from {}", me, m.name());
                    votes++;
                } else {
                    log.info("{}: No quorum vote from {}: it has not published its position since the leader key went",
                            me, m.name());
                }
            }
        }
        return !quorumMode || votes >= cluster.sync().quorum() || ahead == 0 && me.equals(cluster.sync().leader());
    }

    /** The {@code synchronous_mode} these rules apply. */
    ClusterSettings.SynchronousMode synchronousMode() {
        return config.synchronousMode();
    }

    /** Synchronous replication is requested and a leader put its name in the {@code sync} key. */
    boolean syncActive(ClusterView cluster) {
        return config.synchronousMode().isSynchronous() && cluster.sync() != null && cluster.sync().leader() != null;
    }

    /** Quorum commit is requested and active. */
    boolean quorumActive(ClusterView cluster) {
        return config.synchronousMode() == ClusterSettings.SynchronousMode.QUORUM && syncActive(cluster);
    }

    /** The {@code sync} key's leader and standbys: Patroni's voting set. */
    private static Set<String> votingSet(SyncState sync) {
        Set<String> out = new TreeSet<>(sync.syncStandbys());
        out.add(sync.leader());
        return out;
    }

    /**
     * Patroni's {@code is_failover_possible()}: whether another member (or the given candidate)
     * could take over now — reachable, running as replica, allowed to promote, not lagging
     * (against {@code clusterLsn} if given, else the {@code status} optime), and not on an older
     * timeline when {@code check_timeline} is on.
     *
     * @param candidate only consider this member (null: any)
     * @param action    "switchover", "manual failover" or "failover", for the log
     */
    boolean isFailoverPossible(ClusterView cluster, long clusterLsn, String candidate, String action) {
        Failover failover = cluster.failover();
        // in synchronous mode a manual failover (not a switchover) may go to an asynchronous standby
        boolean onlySync = syncActive(cluster) && !(failover != null && failover.leader() == null);
        List<Member> candidates = cluster.members().stream()
                .filter(m -> !m.name().equals(me) && m.tags().canFailover())
                .filter(m -> !onlySync || cluster.sync().syncStandbys().contains(m.name()))
                .filter(m -> candidate == null || m.name().equals(candidate))
                .toList();
        if (candidates.isEmpty()) {
            if (config.synchronousMode().isSynchronous() && candidate != null) {
                log.warn("{}: {} candidate={} does not match with sync_standbys={}", me,
                        Character.toUpperCase(action.charAt(0)) + action.substring(1), candidate,
                        cluster.sync() == null ? null : String.join(",", new TreeSet<>(cluster.sync().syncStandbys())));
            } else {
                log.info("{}: {}: candidates list is empty", me, action);
            }
            return false;
        }
        int votes = -1;
        for (Member m : candidates) {
            Optional<String> problem = candidateProblem(cluster, m, clusterLsn);
            if (problem.isPresent()) {
                log.info("{}: {}", me, problem.get());
            } else {
                votes++;
            }
        }
        if (quorumActive(cluster) && candidate == null && votes < cluster.sync().quorum()) {
            log.info("{}: Quorum requirement {} can not be reached", me, cluster.sync().quorum());
            return false;
        }
        return votes >= 0;
    }

    /** Why this member cannot take over now, in Patroni's words; empty when it can. */
    Optional<String> candidateProblem(ClusterView cluster, Member m, long clusterLsn) {
        if (!m.tags().canFailover()) {
            return Optional.of("Member " + m.name() + " is not allowed to promote");
        }
        if (m.watchdogFailed()) {
            return Optional.of("Member " + m.name() + " is not watchdog capable");
        }
        if (!m.isRunning() || m.isPrimaryRole()) {
            return Optional.of("Member " + m.name() + " is not running as a replica");
        }
        if (isLagging(cluster, m.walPosition(), clusterLsn)) {
            return Optional.of("Member " + m.name() + " exceeds maximum replication lag");
        }
        if (config.checkTimeline() && (m.timeline() == null || m.timeline() < cluster.timeline())) {
            return Optional.of("Timeline " + m.timeline() + " of member " + m.name()
                    + " is behind the cluster timeline " + cluster.timeline());
        }
        return Optional.empty();
    }

    /**
     * Patroni's {@code failover_limitation()}: "not reachable", "not allowed to promote", "not
     * watchdog capable", or none.
     */
    Optional<String> limitation(ClusterView cluster, String member) {
        Optional<Member> m = cluster.member(member);
        if (m.isEmpty()) {
            return Optional.of("not reachable");
        }
        if (!m.get().tags().canFailover()) {
            return Optional.of("not allowed to promote");
        }
        if (m.get().watchdogFailed()) {
            return Optional.of("not watchdog capable");
        }
        return Optional.empty();
    }

    private boolean isLagging(ClusterView cluster, long position, long clusterLsn) {
        long reference = clusterLsn > 0 ? clusterLsn : cluster.status().optime();
        return reference - position > config.maximumLagOnFailover();
    }
}
