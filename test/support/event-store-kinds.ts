import { startEsdbTestServer } from './esdb-test-server/esdb-test-server.ts';

/**
 * `esdb`: EventStoreDB, appended to as a 22.x-24.x server is, through
 * BatchAppend; `esdb-classic`: through the classic Append call, as a server
 * that does not list BatchAppend is.
 */
export type EventStoreKind = 'postgres' | 'esdb' | 'esdb-classic';
export const EVENT_STORE_KINDS: readonly EventStoreKind[] = ['postgres', 'esdb', 'esdb-classic'];

export interface EventStoreEnv {
  /** Environment for loadConfig that selects this event store. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The environment that points Tally at an event store of this kind. `esdb`:
 * the real server EVENTSTORE_CONNECTION_STRING names (give it a fresh
 * in-memory one: suites assume an empty log), else the gRPC test double, which
 * appends through BatchAppend as 24.10 does. `esdb-classic`: always the
 * double, with its ServerFeatures left unregistered, so that the client
 * appends with the classic Append call.
 */
export const eventStoreEnv = async (kind: EventStoreKind): Promise<EventStoreEnv> => {
  if (kind === 'postgres') return { env: { EVENT_STORE: 'postgres' }, stop: async () => undefined };
  const real = process.env.EVENTSTORE_CONNECTION_STRING;
  if (kind === 'esdb' && real) return { env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: real }, stop: async () => undefined };
  const server = await startEsdbTestServer({ appendMode: kind === 'esdb' ? 'batch' : 'classic' });
  return { env: { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: server.connectionString }, stop: () => server.stop() };
};
