package dev.pgha.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ClusterStatus}: normalised on construction, compatible with the two-field form. */
class ClusterStatusTest {

    @Test
    void retainedSlotNamesAreSortedWithoutDuplicatesAndCollectionsCopied() {
        Map<String, Long> slots = new HashMap<>(Map.of("b", 2L));
        List<String> retain = new ArrayList<>(List.of("node3", "node1", "node3"));

        ClusterStatus s = new ClusterStatus(7, slots, retain);
        slots.put("c", 3L);
        retain.add("node9");

        assertThat(s.slots()).isEqualTo(Map.of("b", 2L));
        assertThat(s.retainSlots()).containsExactly("node1", "node3");
        assertThat(s).isEqualTo(new ClusterStatus(7, Map.of("b", 2L), List.of("node3", "node1")));
        assertThatThrownBy(() -> s.retainSlots().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void theTwoFieldFormRetainsNothingAndNullsReadAsEmpty() {
        assertThat(new ClusterStatus(5, Map.of()).retainSlots()).isEmpty();
        assertThat(new ClusterStatus(0, null, null)).isEqualTo(ClusterStatus.EMPTY);
    }

    @Test
    void withOptimeKeepsSlotsAndRetainedNames() {
        ClusterStatus s = new ClusterStatus(5, Map.of("a", 4L), List.of("a"));

        assertThat(s.withOptime(9)).isEqualTo(new ClusterStatus(9, Map.of("a", 4L), List.of("a")));
    }
}
