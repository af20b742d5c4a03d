package dev.pgha.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.FakeWorld;
import dev.pgha.testing.ManualClock;
import org.junit.jupiter.api.Test;

/** {@link HaController.Builder#build()}: the DCS client must be the one of the configured member. */
class HaControllerBuilderTest {

    private final ManualClock clock = new ManualClock();
    private final InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
    private final FakePostgres postgres = new FakeWorld(clock).add("node1", FakeTimings.INSTANT);
    private final HaConfig config = HaConfig.builder().scope("test").name("node1").build();

    @Test
    void aClientOfAnotherMemberIsRejected() {
        HaController.Builder builder = HaController.builder().config(config).dcs(dcs.client("node2"))
                .postgres(postgres).clock(clock);

        assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the DCS client InMemoryDcsClient[node2] serves member 'node2' but HaConfig.name() is"
                        + " 'node1': build the client for 'node1'");
    }

    @Test
    void theClientOfTheConfiguredMemberIsAccepted() {
        HaController ha = HaController.builder().config(config).dcs(dcs.client("node1")).postgres(postgres)
                .clock(clock).build();

        assertThat(ha.status().member()).isEqualTo("node1");
    }
}
