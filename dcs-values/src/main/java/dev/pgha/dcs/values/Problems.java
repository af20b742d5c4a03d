package dev.pgha.dcs.values;

import java.util.ArrayList;
import java.util.List;

/** What a decoder ignored in one value, collected while it decodes; handed out as {@link Decoded#problems()}. */
final class Problems {

    private final List<String> items = new ArrayList<>();

    void add(String problem) {
        items.add(problem);
    }

    boolean isEmpty() {
        return items.isEmpty();
    }

    /** The decoded value with what was collected. */
    <T> Decoded<T> result(T value) {
        return new Decoded<>(value, items);
    }

    @Override
    public String toString() {
        return String.join("; ", items);
    }
}
