package dev.pgha.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.examples.WriteSampler.Sample;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the sampler turns answers into runs, and runs into proof of two writable servers. */
class WriteSamplerTest {

    private final WriteSampler sampler = new WriteSampler(Map.of(), "postgres", null, 100);

    private void answer(String server, long nanos, boolean writable) {
        sampler.record(new Sample(server, nanos, writable));
    }

    @Test
    void a_hand_over_with_a_refusal_in_between_is_no_overlap() {
        // node1 writable until 300, refuses from 400; node2 writable from 500
        answer("node1", 100, true);
        answer("node2", 150, false);
        answer("node1", 300, true);
        answer("node1", 400, false);
        answer("node2", 500, true);
        answer("node2", 600, true);

        assertThat(sampler.runs()).containsExactly(new WriteSampler.Run("node1", 100, 300),
                new WriteSampler.Run("node2", 500, 600));
        assertThat(sampler.overlaps()).isEmpty();
        assertThat(sampler.lastWritable("node1")).isEqualTo(300);
        assertThat(sampler.firstRefused("node1", 200)).isEqualTo(400);
        assertThat(sampler.firstWritable("node2", 200)).isEqualTo(500);
    }

    @Test
    void two_servers_answering_writable_in_overlapping_stretches_are_reported() {
        // node2 starts accepting writes at 250 while node1 still does at 300
        answer("node1", 100, true);
        answer("node2", 250, true);
        answer("node1", 300, true);
        answer("node1", 400, false);
        answer("node2", 450, true);

        assertThat(sampler.overlaps()).hasSize(1);
        assertThat(sampler.overlaps().get(0)).contains("node1", "node2");
    }

    @Test
    void a_single_writable_answer_counts_as_a_run() {
        answer("node1", 100, true);
        answer("node2", 100, true);

        assertThat(sampler.overlaps()).hasSize(1);
        assertThat(sampler.count("node1")).isEqualTo(1);
    }
}
