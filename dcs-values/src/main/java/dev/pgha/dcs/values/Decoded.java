package dev.pgha.dcs.values;

import java.util.List;
import java.util.Objects;

/**
 * What a lenient decoder made of one stored value: the value as far as it could be used, and
 * what it had to ignore. Decoding never throws for what is stored; a value that cannot be used at
 * all reads as absent ({@code null}, or the record's empty constant, as each decoder of
 * {@link PatroniValues} documents) with the reason in {@link #problems()}.
 *
 * @param value    the decoded value; {@code null} where the decoder says so
 * @param problems what was ignored, in the order found (empty when the value was clean); an
 *                 adapter logs them
 * @param <T>      the decoded type
 */
public record Decoded<T>(T value, List<String> problems) {

    /** Copies the problems. */
    public Decoded {
        problems = List.copyOf(Objects.requireNonNullElse(problems, List.of()));
    }

    /** Whether the value was decoded without ignoring anything. */
    public boolean isClean() {
        return problems.isEmpty();
    }
}
