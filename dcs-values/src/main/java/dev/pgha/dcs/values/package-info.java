/**
 * Patroni's DCS values for any adapter, without a store client: {@link dev.pgha.dcs.values.PatroniValues}
 * encodes the records of {@code dev.pgha.cluster} as the values Patroni 3.x writes (member JSON,
 * {@code config}, {@code failover}, {@code sync}, {@code status}, {@code history}, {@code failsafe},
 * {@code leader}, {@code initialize}) and decodes stored values leniently into
 * {@link dev.pgha.dcs.values.Decoded} results; {@link dev.pgha.dcs.values.ClusterDecoder} turns one
 * cluster read ({@link dev.pgha.dcs.values.StoredValue}s by their {@link dev.pgha.dcs.values.PatroniKeys}
 * name) into a {@code ClusterView}, reporting what it cannot use and never throwing for it. The
 * etcd adapter ({@code pgha-dcs-etcd}) is built on it; a ZooKeeper, Consul or other adapter can be too.
 */
package dev.pgha.dcs.values;
