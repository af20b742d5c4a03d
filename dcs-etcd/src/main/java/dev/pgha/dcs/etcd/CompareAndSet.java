package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.pgha.dcs.values.PatroniValues;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.util.function.Function;

/**
 * Version-checked writes and deletes, the SPI's {@code expectedVersion} semantics on etcd's
 * {@code mod_revision}: {@code -1} is unconditional, {@code 0} means "only if absent", any other
 * value must equal the key's mod revision. For the failover key, a value that reads as no request
 * (an emptied {@code {}}, or anything undecodable) counts as absent: a second transaction replaces
 * it if it is still the same revision.
 */
final class CompareAndSet {

    private final KV kv;
    private final KeyLayout keys;
    private final Function<String, Calls> begin;

    CompareAndSet(KV kv, KeyLayout keys, Function<String, Calls> begin) {
        this.kv = kv;
        this.keys = keys;
        this.begin = begin;
    }

    boolean put(String op, String relative, String value, long expectedVersion, boolean emptyIsAbsent) {
        check(expectedVersion);
        Calls call = begin.apply(op);
        ByteSequence key = keys.key(relative);
        Op write = Op.put(key, KeyLayout.bytes(value), PutOption.DEFAULT);
        if (expectedVersion == -1) {
            call.await(kv.put(key, KeyLayout.bytes(value)), "put");
            return true;
        }
        if (expectedVersion > 0) {
            return call.await(kv.txn().If(revision(key, expectedVersion)).Then(write).commit(), "txn").isSucceeded();
        }
        TxnResponse r = call.await(kv.txn().If(EtcdDcsClient.absent(key)).Then(write)
                .Else(Op.get(key, GetOption.DEFAULT)).commit(), "txn");
        if (r.isSucceeded()) {
            return true;
        }
        KeyValue existing = existing(r);
        if (!emptyIsAbsent || existing == null || !readsAsNoRequest(existing)) {
            return false;
        }
        return call.await(kv.txn().If(revision(key, existing.getModRevision())).Then(write).commit(), "txn")
                .isSucceeded();
    }

    boolean delete(String op, String relative, long expectedVersion, boolean emptyIsAbsent) {
        check(expectedVersion);
        Calls call = begin.apply(op);
        ByteSequence key = keys.key(relative);
        Op delete = Op.delete(key, DeleteOption.DEFAULT);
        if (expectedVersion == -1) {
            call.await(kv.delete(key), "delete");
            return true;
        }
        if (expectedVersion > 0) {
            return call.await(kv.txn().If(revision(key, expectedVersion)).Then(delete).commit(), "txn").isSucceeded();
        }
        TxnResponse r = call.await(kv.txn().If(EtcdDcsClient.absent(key))
                .Else(Op.get(key, GetOption.DEFAULT)).commit(), "txn");
        if (r.isSucceeded()) {
            return true;
        }
        KeyValue existing = existing(r);
        if (!emptyIsAbsent || existing == null || !readsAsNoRequest(existing)) {
            return false;
        }
        return call.await(kv.txn().If(revision(key, existing.getModRevision())).Then(delete).commit(), "txn")
                .isSucceeded();
    }

    private static boolean readsAsNoRequest(KeyValue kv) {
        return PatroniValues.decodeFailover(kv.getValue().toString(UTF_8), kv.getModRevision()).value() == null;
    }

    private static KeyValue existing(TxnResponse r) {
        if (r.getGetResponses().isEmpty() || r.getGetResponses().get(0).getKvs().isEmpty()) {
            return null;
        }
        return r.getGetResponses().get(0).getKvs().get(0);
    }

    private static Cmp revision(ByteSequence key, long modRevision) {
        return new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision));
    }

    private static void check(long expectedVersion) {
        if (expectedVersion < -1) {
            throw new IllegalArgumentException("expectedVersion must be -1, 0 or a version read, was " + expectedVersion);
        }
    }
}
