package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.dcs.values.StoredValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Patroni's key prefix, and a prefix read handed to the shared decoder by relative key. */
class KeyLayoutTest {

    @Test
    void prefixIsBuiltAsPatroniBuildsIt() {
        assertThat(new KeyLayout("/service", "demo").prefix()).isEqualTo("/service/demo/");
        assertThat(new KeyLayout("service/", "demo").prefix()).isEqualTo("/service/demo/");
        assertThat(new KeyLayout("/", "demo").prefix()).isEqualTo("/demo/");
        assertThat(new KeyLayout("/a//b/", "demo").prefix()).isEqualTo("/a/b/demo/");
        assertThat(new KeyLayout("/service", "demo").member("node1")).isEqualTo(bytes("/service/demo/members/node1"));
    }

    @Test
    void aPrefixReadIsNamedByRelativeKeyWithTheModRevisionAsVersion() {
        KeyLayout keys = new KeyLayout("/service", "demo");
        List<KeyValue> kvs = List.of(kv("/service/demo/leader", "node1", 7), kv("/service/demo/members/node1", "{}", 9),
                kv("/service/demo2/leader", "other", 8));

        assertThat(keys.values(kvs)).containsExactly(Map.entry("leader", new StoredValue("node1", 7)),
                Map.entry("members/node1", new StoredValue("{}", 9)));
    }

    private static KeyValue kv(String key, String value, long modRevision) {
        return new KeyValue(io.etcd.jetcd.api.KeyValue.newBuilder()
                .setKey(com.google.protobuf.ByteString.copyFromUtf8(key))
                .setValue(com.google.protobuf.ByteString.copyFromUtf8(value))
                .setModRevision(modRevision).build(), ByteSequence.EMPTY);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, UTF_8);
    }
}
