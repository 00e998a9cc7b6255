import type { OpenSubscription } from './all-subscription.ts';
import { appendHandler } from './append.ts';
import { InMemoryLog, type InMemoryLogOptions } from './in-memory-log.ts';
import { readHandler } from './read.ts';
import { grpc, streamsGrpcPb } from './stubs.ts';

/**
 * A TEST DOUBLE of EventStoreDB: an in-memory log behind the real gRPC wire
 * format, so that code using the official `EventStoreDBClient` can be tested
 * over real gRPC without a server. Only `Streams.Append` and `Streams.Read`
 * (stream and $all reads, $all subscriptions) are served; see README.md for
 * what it does and does not do.
 */
export interface EsdbTestServer {
  /** e.g. `esdb://127.0.0.1:PORT?tls=false`: single node, no TLS, no gossip. */
  readonly connectionString: string;
  /** End ('end': server completes the call with OK status) or break ('error': UNAVAILABLE status) every open $all subscription call. */
  breakSubscriptions(mode: 'end' | 'error'): void;
  /** Writes a system event (`$statsCollected` in `$stats-…`), as a real server does now and then. */
  appendSystemEvent(): void;
  stop(): Promise<void>;
}

/**
 * Starts a test server on a free local port, with an empty log. Only the
 * Streams service is registered: the client's `ServerFeatures` call gets
 * UNIMPLEMENTED, which it takes as "unknown server version", so it appends
 * with the classic `Append` call rather than `BatchAppend`.
 */
export const startEsdbTestServer = async (options: InMemoryLogOptions = {}): Promise<EsdbTestServer> => {
  const log = new InMemoryLog(options);
  const openSubscriptions = new Set<OpenSubscription>();
  const server = new grpc.Server();
  server.addService(streamsGrpcPb.StreamsService, { append: appendHandler(log), read: readHandler(log, openSubscriptions) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
  );
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    breakSubscriptions: (mode) => {
      for (const subscription of [...openSubscriptions]) {
        if (mode === 'end') subscription.end();
        else subscription.fail();
      }
    },
    appendSystemEvent: () => log.appendSystemEvent(),
    stop: async () => {
      server.forceShutdown();
    },
  };
};
