import { Readable } from 'node:stream';
import type { OpenSubscription } from './all-subscription.ts';
import { DEFAULT_MAX_APPEND_SIZE } from './append-request.ts';
import { appendHandler } from './append.ts';
import { batchAppendHandler } from './batch-append.ts';
import { InMemoryLog, type InMemoryLogOptions } from './in-memory-log.ts';
import { readHandler } from './read.ts';
import { getSupportedMethodsHandler } from './server-features.ts';
import { grpc, serverFeaturesGrpcPb, streamsGrpcPb } from './stubs.ts';

/**
 * A TEST DOUBLE of EventStoreDB: an in-memory log behind the real gRPC wire
 * format, so that code using the official `EventStoreDBClient` can be tested
 * over real gRPC without a server. Only `Streams.Append`, `Streams.BatchAppend`,
 * `Streams.Read` (stream and $all reads, $all subscriptions) and
 * `ServerFeatures` are served; see README.md for what it does and does not do.
 */
export interface EsdbTestServer {
  /** e.g. `esdb://127.0.0.1:PORT?tls=false`: single node, no TLS, no gossip. */
  readonly connectionString: string;
  /** End ('end': server completes the call with OK status) or break ('error': UNAVAILABLE status) every open $all subscription call. */
  breakSubscriptions(mode: 'end' | 'error'): void;
  /** Writes a system event (`$statsCollected` in `$stats-…`), as a real server does now and then. */
  appendSystemEvent(): void;
  /** For tests: how many calls of a method the server has had so far (the client keeps one BatchAppend call open for all its appends). */
  calls(method: EsdbMethod): number;
  /** For tests: how many request messages those calls carried. */
  requests(method: EsdbMethod): number;
  stop(): Promise<void>;
}

/** The methods the double serves, by service and name. */
export type EsdbMethod = 'ServerFeatures.GetSupportedMethods' | 'Streams.Append' | 'Streams.BatchAppend' | 'Streams.Read';

export interface EsdbTestServerOptions extends InMemoryLogOptions {
  /**
   * 'batch' (the default): like EventStoreDB 24.10, `ServerFeatures` lists
   * `Streams.BatchAppend`, and the client appends through it. 'classic':
   * `ServerFeatures` is left unregistered, like an old server: the client's
   * call gets UNIMPLEMENTED, which it takes as "unknown server version", so it
   * appends with the classic `Append` call.
   */
  readonly appendMode?: 'batch' | 'classic';
  /**
   * EventStoreDB's `MaxAppendSize` (default 1 MiB, as a real server's): an
   * append whose events are larger in all (data, custom metadata and type
   * names) is refused, and nothing of it is written. See append-request.ts.
   */
  readonly maxAppendSizeBytes?: number;
}

/**
 * Starts a test server on a free local port, with a fresh log, serving the
 * appends as `appendMode` says (BatchAppend by default).
 */
export const startEsdbTestServer = async ({ appendMode = 'batch', maxAppendSizeBytes = DEFAULT_MAX_APPEND_SIZE, ...logOptions }: EsdbTestServerOptions = {}): Promise<EsdbTestServer> => {
  const log = new InMemoryLog(logOptions);
  const openSubscriptions = new Set<OpenSubscription>();
  const calls = new Map<EsdbMethod, number>();
  const requests = new Map<EsdbMethod, number>();
  const bump = (counts: Map<EsdbMethod, number>, method: EsdbMethod) => counts.set(method, (counts.get(method) ?? 0) + 1);
  /** The handler, counting its calls and their requests (a streamed request's messages as they come, a unary call's one). */
  const counted = <Handler extends (call: never, ...rest: never[]) => void>(method: EsdbMethod, handler: Handler): Handler =>
    ((call: object, ...rest: never[]) => {
      bump(calls, method);
      handler(call as never, ...rest);
      if (call instanceof Readable) call.on('data', () => bump(requests, method));
      else bump(requests, method);
    }) as unknown as Handler;
  const limits = { maxAppendSize: maxAppendSizeBytes };
  // As a real server's Streams service: a message may be as large as the largest record it stores (TFConsts.EffectiveMaxLogRecordSize, about 16 MiB).
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  server.addService(streamsGrpcPb.StreamsService, {
    append: counted('Streams.Append', appendHandler(log, limits)),
    read: counted('Streams.Read', readHandler(log, openSubscriptions)),
    ...(appendMode === 'batch' ? { batchAppend: counted('Streams.BatchAppend', batchAppendHandler(log, limits)) } : {}),
  });
  if (appendMode === 'batch') server.addService(serverFeaturesGrpcPb.ServerFeaturesService, { getSupportedMethods: counted('ServerFeatures.GetSupportedMethods', getSupportedMethodsHandler) });
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
    calls: (method) => calls.get(method) ?? 0,
    requests: (method) => requests.get(method) ?? 0,
    stop: async () => {
      server.forceShutdown();
    },
  };
};
