package dev.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.postgres.SyncStandbyNames.Type;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SyncStandbyNamesTest {

    @Test
    void parsesWhatPostgresqlAccepts() {
        assertThat(SyncStandbyNames.parse("")).isEqualTo(SyncStandbyNames.OFF);
        assertThat(SyncStandbyNames.parse("  ")).isEqualTo(SyncStandbyNames.OFF);
        assertThat(SyncStandbyNames.parse(" a , b ")).isEqualTo(new SyncStandbyNames(Type.PRIORITY, 1, List.of("a", "b")));
        assertThat(SyncStandbyNames.parse("FiRsT")).isEqualTo(new SyncStandbyNames(Type.PRIORITY, 1, List.of("FiRsT")));
        assertThat(SyncStandbyNames.parse("2 (a,b,c)")).isEqualTo(new SyncStandbyNames(Type.PRIORITY, 2,
                List.of("a", "b", "c")));
        assertThat(SyncStandbyNames.parse("first 2 (\"node-1\",b)")).isEqualTo(new SyncStandbyNames(Type.PRIORITY, 2,
                List.of("node-1", "b")));
        assertThat(SyncStandbyNames.parse("ANY 4(\"a\",*,b)")).satisfies(s -> {
            assertThat(s.type()).isEqualTo(Type.QUORUM);
            assertThat(s.num()).isEqualTo(4);
            assertThat(s.hasStar()).isTrue();
        });
        assertThat(SyncStandbyNames.parse("\"say \"\"hi\"\"\"").members()).containsExactly("say \"hi\"");
        assertThat(SyncStandbyNames.parse("ANY 1 (" + SyncStandbyNames.STRICT_PLACEHOLDER + ")").names()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "a,", "ANY 4(\"a\" b,\"c c\")", "FIRST 4(\"a\",)", "2 (,)", "a b", "ANY 1 ()"})
    void refusesWhatItCannotParseNamingWhy(String value) {
        assertThatThrownBy(() -> SyncStandbyNames.parse(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Unparsable synchronous_standby_names value '" + value + "'");
    }

    @Test
    void formatsFirstAnyEmptyAndThePlaceholderSortedAndQuoted() {
        assertThat(SyncStandbyNames.format(Set.of(), 0, false)).isEmpty();
        assertThat(SyncStandbyNames.format(List.of("node3", "node2"), 1, false)).isEqualTo("FIRST 1 (node2,node3)");
        assertThat(SyncStandbyNames.format(List.of("b", "a"), 2, true)).isEqualTo("ANY 2 (a,b)");
        assertThat(SyncStandbyNames.format(List.of("pg-1", "any"), 1, false)).isEqualTo("FIRST 1 (\"any\",\"pg-1\")");
        assertThat(SyncStandbyNames.format(Set.of(), 1, false))
                .isEqualTo("FIRST 1 (" + SyncStandbyNames.STRICT_PLACEHOLDER + ")");
        assertThat(SyncStandbyNames.format(Set.of(), 2, true))
                .isEqualTo("ANY 1 (" + SyncStandbyNames.STRICT_PLACEHOLDER + ")");
        // what it writes, it reads back
        for (String v : List.of("FIRST 1 (node2,node3)", "ANY 2 (a,b)", "FIRST 1 (\"any\",\"pg-1\")")) {
            SyncStandbyNames parsed = SyncStandbyNames.parse(v);
            assertThat(SyncStandbyNames.format(parsed.members(), parsed.num(), parsed.type() == Type.QUORUM))
                    .isEqualTo(v);
        }
    }
}
