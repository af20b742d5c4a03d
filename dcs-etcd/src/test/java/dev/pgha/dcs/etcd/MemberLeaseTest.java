package dev.pgha.dcs.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The rule that lets a member-key touch skip the lease keep-alive. */
class MemberLeaseTest {

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void aTouchSkipsTheKeepAliveWhileMoreThanHalfTheTtlWouldBeLeftByTheNextTouch() {
        // ttl 10 s, one touch a second: 3 s after the last keep-alive the next touch finds 6 s left
        assertThat(MemberLease.needsKeepAlive(ms(3000), ms(1000), 10)).isFalse();
        // 4 s after it, the next touch would find only 5 s: refresh now
        assertThat(MemberLease.needsKeepAlive(ms(4000), ms(1000), 10)).isTrue();
        assertThat(MemberLease.needsKeepAlive(ms(4999), ms(0), 10)).isFalse();
        assertThat(MemberLease.needsKeepAlive(ms(5000), ms(0), 10)).isTrue();
    }

    @Test
    void withTouchesHalfATtlApartEveryTouchRefreshes() {
        // Patroni's defaults: ttl 30 s, loop_wait 10 s
        assertThat(MemberLease.needsKeepAlive(ms(10_000), ms(10_000), 30)).isTrue();
        assertThat(MemberLease.needsKeepAlive(ms(1), ms(15_000), 30)).isTrue();
        // a long pause counts at most one ttl
        assertThat(MemberLease.needsKeepAlive(ms(1), ms(600_000), 30)).isTrue();
        assertThat(MemberLease.needsKeepAlive(ms(1), ms(-5), 30)).isFalse();
    }

    @Test
    void ttlsAreWholeSecondsRoundedUp() {
        assertThat(MemberLease.seconds(java.time.Duration.ofMillis(1500))).isEqualTo(2);
        assertThat(MemberLease.seconds(java.time.Duration.ofMillis(1))).isEqualTo(1);
        assertThat(MemberLease.seconds(java.time.Duration.ofSeconds(10))).isEqualTo(10);
    }
}
