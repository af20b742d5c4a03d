package dev.pgha.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link Member}: the WAL position the leader race compares, and role and state helpers. */
class MemberTest {

    private static Member member(String role, Long xlog, Long receive, Long replay) {
        return new Member("node1", "postgres://127.0.0.1:5432/postgres", null, "running", role, "0.1.0",
                xlog, receive, replay, null, 2L, null, false);
    }

    @Test
    void theEarlierConstructorMakesAWatchdogCapableMemberAndTheWitherSetsTheFlag() {
        Member m = member("replica", 100L, null, null);

        assertThat(m.watchdogFailed()).isFalse();
        assertThat(m.withWatchdogFailed(true).watchdogFailed()).isTrue();
        assertThat(m.withWatchdogFailed(true).withWatchdogFailed(false)).isEqualTo(m);
        assertThat(Member.named("x").watchdogFailed()).isFalse();
    }

    @Test
    void primaryUsesItsFlushPositionOnly() {
        assertThat(member("primary", 100L, 500L, 400L).walPosition()).isEqualTo(100);
    }

    @Test
    void patroniThreesMasterRoleCountsAsPrimary() {
        Member m = member("master", 100L, 500L, 400L);
        assertThat(m.isPrimaryRole()).isTrue();
        assertThat(m.walPosition()).isEqualTo(100);
    }

    @Test
    void replicaUsesTheLargestOfItsPositions() {
        assertThat(member("replica", 100L, 300L, 200L).walPosition()).isEqualTo(300);
        assertThat(member("replica", 100L, 200L, 300L).walPosition()).isEqualTo(300);
        assertThat(member("replica", 400L, 200L, 300L).walPosition()).isEqualTo(400);
        assertThat(member("replica", null, null, 250L).walPosition()).isEqualTo(250);
    }

    @Test
    void nothingPublishedMeansPositionZero() {
        assertThat(member("replica", null, null, null).walPosition()).isZero();
        assertThat(member("primary", null, null, null).walPosition()).isZero();
        assertThat(Member.named("node9").walPosition()).isZero();
    }

    @Test
    void otherRolesAreNotPrimary() {
        assertThat(member("replica", 1L, null, null).isPrimaryRole()).isFalse();
        assertThat(member("demoted", 1L, null, null).isPrimaryRole()).isFalse();
        assertThat(member("standby_leader", 1L, null, null).isPrimaryRole()).isFalse();
        assertThat(Member.named("node9").isPrimaryRole()).isFalse();
    }

    @Test
    void namedMemberHasDefaultTagsAndNoState() {
        Member m = Member.named("node9");
        assertThat(m.name()).isEqualTo("node9");
        assertThat(m.tags()).isEqualTo(MemberTags.DEFAULT);
        assertThat(m.isRunning()).isFalse();
        assertThat(member("replica", null, null, null).isRunning()).isTrue();
    }

    @Test
    void nameIsRequired() {
        assertThatThrownBy(() -> Member.named(null)).isInstanceOf(NullPointerException.class).hasMessage("name");
    }
}
