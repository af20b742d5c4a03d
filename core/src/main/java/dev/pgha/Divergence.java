package dev.pgha;

import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import java.util.List;
import java.util.Optional;

/**
 * Whether this node's data went past the point where the leader's timeline forked off (so it
 * cannot stream from the leader without pg_rewind or a new copy). Decided from this node's
 * timeline and position and the leader's timeline and the {@code history} key, as Patroni's
 * {@code _check_timeline_and_lsn} does with the leader's {@code TIMELINE_HISTORY}. Unlike it, a
 * fork that reused a timeline number (two promotions from the same timeline) is caught by
 * comparing this node's own timeline history with the cluster's.
 */
final class Divergence {

    /** The answer. */
    enum Verdict {
        /** The data diverged: rewind or re-clone. */
        NEED,
        /** It can follow the leader as it is. */
        NOT_NEED,
        /** Not decidable now (the leader is not a running primary, or its timeline is unknown). */
        UNKNOWN
    }

    private Divergence() {
    }

    /**
     * @param myTimeline   this node's timeline
     * @param myPosition   where its WAL ends (checkpoint of a shut-down primary, replay/min-recovery
     *                     position of a replica)
     * @param wasPrimary   whether the data directory was last a primary (its position is the
     *                     start of its shutdown checkpoint record)
     * @param myHistory    this data directory's own timeline switches (its {@code .history} file)
     * @param leader       the leader's member key
     * @param history      the cluster's timeline history
     */
    static Verdict check(long myTimeline, long myPosition, boolean wasPrimary, List<TimelineHistory.Entry> myHistory,
                         Member leader, TimelineHistory history) {
        return check(myTimeline, myPosition, wasPrimary, myHistory, null, 0, null, leader, history);
    }

    /**
     * As above, also knowing this node's name and who created {@code knownTimeline} as this node
     * saw it (itself by promotion, or the leader it streamed it from): if the cluster's history
     * names another creator for that timeline, the data diverged even when the switch positions
     * happen to be equal.
     */
    static Verdict check(long myTimeline, long myPosition, boolean wasPrimary, List<TimelineHistory.Entry> myHistory,
                         String me, long knownTimeline, String knownCreator, Member leader,
                         TimelineHistory history) {
        if (leader == null || leader.timeline() == null || !leader.isPrimaryRole() || !leader.isRunning()) {
            return Verdict.UNKNOWN;
        }
        if (me != null && wasPrimary && myTimeline > 1) {
            // This data directory was last a primary on its timeline, but the cluster says another
            // member created that timeline: two promotions forked it, whatever the positions.
            Optional<TimelineHistory.Entry> creation = history.switchOf(myTimeline - 1);
            if (creation.isPresent() && creation.get().newLeader() != null
                    && !creation.get().newLeader().equals(me)) {
                return Verdict.NEED;
            }
        }
        if (knownCreator != null && knownTimeline > 1 && myTimeline == knownTimeline) {
            Optional<TimelineHistory.Entry> creation = history.switchOf(knownTimeline - 1);
            if (creation.isPresent() && creation.get().newLeader() != null
                    && !creation.get().newLeader().equals(knownCreator)) {
                return Verdict.NEED;
            }
        }
        for (TimelineHistory.Entry mine : myHistory) {
            Optional<TimelineHistory.Entry> theirs = history.switchOf(mine.timeline());
            if (theirs.isPresent() && theirs.get().switchLsn() != mine.switchLsn()) {
                // The same timeline number ended at another position: two promotions forked it.
                return Verdict.NEED;
            }
        }
        long leaderTimeline = leader.timeline();
        if (myTimeline > leaderTimeline) {
            return Verdict.NEED;
        }
        if (myTimeline == leaderTimeline) {
            return Verdict.NOT_NEED;
        }
        Optional<TimelineHistory.Entry> fork = history.switchOf(myTimeline);
        if (fork.isEmpty()) {
            return Verdict.NEED;
        }
        long switchPoint = fork.get().switchLsn();
        boolean diverged = wasPrimary
                ? Long.compareUnsigned(myPosition, switchPoint) >= 0
                : Long.compareUnsigned(myPosition, switchPoint) > 0;
        return diverged ? Verdict.NEED : Verdict.NOT_NEED;
    }
}
