import { startEsdbTestServer } from './esdb-test-server/esdb-test-server.ts';

export type EventStoreKind = 'postgres' | 'esdb';
export const EVENT_STORE_KINDS: readonly EventStoreKind[] = ['postgres', 'esdb'];

export interface EventStoreEnv {
  /** Environment for loadConfig that selects this event store. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The environment that points Tally at an event store of this kind. For
 * EventStoreDB: the real server EVENTSTORE_CONNECTION_STRING names (give it a
 * fresh in-memory one: suites assume an empty log), else the gRPC test double.
 */
export const eventStoreEnv = async (kind: EventStoreKind): Promise<EventStoreEnv> => {
  if (kind === 'postgres') return { env: { EVENT_STORE: 'postgres' }, stop: async () => undefined };
  const real = process.env.EVENTSTORE_CONNECTION_STRING;
  if (real) return { env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: real }, stop: async () => undefined };
  const server = await startEsdbTestServer();
  return { env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: server.connectionString }, stop: () => server.stop() };
};
