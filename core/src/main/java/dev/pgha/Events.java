package dev.pgha;

import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Delivers events to the host's listener; a listener that throws is logged and ignored. */
final class Events {

    private static final Logger log = LoggerFactory.getLogger(Events.class);

    private final String member;
    private final HaListener listener;

    Events(String member, HaListener listener) {
        this.member = member;
        this.listener = listener;
    }

    void roleChanged(PostgresRole from, PostgresRole to) {
        deliver("roleChanged", () -> listener.roleChanged(member, from, to));
    }

    void lockAcquired() {
        deliver("lockAcquired", () -> listener.lockAcquired(member));
    }

    void lockLost() {
        deliver("lockLost", () -> listener.lockLost(member));
    }

    void postgresStateChanged(PostgresState from, PostgresState to) {
        deliver("postgresStateChanged", () -> listener.postgresStateChanged(member, from, to));
    }

    void callback(HaListener.Callback callback, PostgresRole role) {
        log.info("{}: callback {} {}", member, callback.patroniName(), role.callbackName());
        deliver("callback", () -> listener.callback(member, callback, role));
    }

    private void deliver(String what, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.warn("{}: listener {} threw; ignored", member, what, e);
        }
    }
}
