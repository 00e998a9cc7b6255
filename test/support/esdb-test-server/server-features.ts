import { serverFeaturesPb, type Grpc, type ServerFeaturesPb, type SharedPb } from './stubs.ts';

/** What the double says it is: the client only reads it into `capabilities.serverVersion`. */
export const SERVER_VERSION = '24.10.0';

/**
 * The methods a real EventStoreDB 24.10 lists, for what the double serves.
 * A real server lists every gRPC method of its client-facing services
 * (`ServerFeatures.cs`): names in lower case, the service by its full name,
 * with features on a few: `position` and `events` on `Streams.Read`,
 * `deadline_duration` on `Streams.BatchAppend`, `stream` and `all` on every
 * persistent-subscription method, `track_emitted_streams` on
 * `Projections.Create`. The double lists the Streams service as a real server
 * does (with `Delete` and `Tombstone`, which it then answers UNIMPLEMENTED)
 * and `ServerFeatures` itself, but none of the services it does not serve
 * (persistent subscriptions, projections, operations, users, gossip,
 * monitoring): the client then reports those as unsupported at once (its
 * `UnsupportedError`) where it checks, rather than calling them.
 */
const SUPPORTED: readonly { service: string; method: string; features?: readonly string[] }[] = [
  { service: 'event_store.client.streams.streams', method: 'read', features: ['position', 'events'] },
  { service: 'event_store.client.streams.streams', method: 'append' },
  { service: 'event_store.client.streams.streams', method: 'delete' },
  { service: 'event_store.client.streams.streams', method: 'tombstone' },
  { service: 'event_store.client.streams.streams', method: 'batchappend', features: ['deadline_duration'] },
  { service: 'event_store.client.server_features.serverfeatures', method: 'getsupportedmethods' },
];

/**
 * `ServerFeatures.GetSupportedMethods` (unary), as EventStoreDB 24.10 answers
 * it. Because `Streams.BatchAppend` is listed, the client sends every append
 * through it (unless the append carries credentials of its own).
 */
export const getSupportedMethodsHandler: Grpc.handleUnaryCall<SharedPb.Empty, ServerFeaturesPb.SupportedMethods> = (_call, callback) => {
  const methods = SUPPORTED.map(({ service, method, features = [] }) =>
    new serverFeaturesPb.SupportedMethod().setServiceName(service).setMethodName(method).setFeaturesList([...features]),
  );
  callback(null, new serverFeaturesPb.SupportedMethods().setEventStoreServerVersion(SERVER_VERSION).setMethodsList(methods));
};
