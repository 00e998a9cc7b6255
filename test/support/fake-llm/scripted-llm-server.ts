import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake provider does with one completion request. */
export type Step =
  /** 200 with this text and usage. */
  | { readonly answer: string; readonly inputTokens?: number; readonly outputTokens?: number; readonly model?: string }
  /** An error status, in the provider's error format; `retryAfter` becomes the Retry-After header. */
  | { readonly status: number; readonly retryAfter?: string; readonly message?: string }
  /** Never answers at all, or sends the headers and never the body. */
  | { readonly hang: 'before-headers' | 'after-headers' }
  /** 200, application/json, and a body that is not JSON. */
  | { readonly malformed: true }
  /** 200 with this JSON body, whatever shape it has. */
  | { readonly body: unknown };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: unknown;
  /** Date.now() when it arrived: tests of waits compare these. */
  readonly at: number;
}

/** How one provider's API looks on the wire. */
export interface Dialect {
  /** Where the SDK's base URL points, relative to the server (OpenAI's includes /v1, Anthropic's does not). */
  readonly basePath: string;
  readonly completionPath: string;
  readonly modelsPath: string;
  /** Whether the request carries this key the way the SDK sends it. */
  authorised(headers: http.IncomingHttpHeaders, apiKey: string): boolean;
  success(step: { text: string; inputTokens: number; outputTokens: number; model: string }): unknown;
  error(status: number, message: string): unknown;
  models(): unknown;
}

export interface FakeLlmServer {
  /** The base URL to give the SDK. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Every request, models lists included. */
  readonly requests: RecordedRequest[];
  /** The completion requests only. */
  completions(): RecordedRequest[];
  /** Queues what the next completion requests get, in order; once used up, each gets `fallbackStep`. */
  script(...steps: Step[]): void;
  /** What a completion request gets when nothing is queued (a plain answer unless set). */
  fallbackStep: Step;
  /** What the models list gets (a list unless set). */
  modelsStep: Step | undefined;
  close(): Promise<void>;
}

const DEFAULT_ANSWER: Step = { answer: 'fake answer', inputTokens: 7, outputTokens: 3 };

/**
 * A local HTTP server that speaks one provider's API, scripted request by
 * request, so that the real SDK clients can be tested against every way a
 * provider fails.
 */
export const startScriptedLlmServer = async (dialect: Dialect, apiKey = 'test-key'): Promise<FakeLlmServer> => {
  const queue: Step[] = [];
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push({ method: req.method ?? '', path, headers: req.headers, body, at: Date.now() });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
      };
      if (!dialect.authorised(req.headers, apiKey)) return send(401, dialect.error(401, 'invalid api key'));
      const step = path === dialect.modelsPath ? fake.modelsStep : path === dialect.completionPath ? (queue.shift() ?? fake.fallbackStep) : undefined;
      if (step === undefined && path === dialect.modelsPath) return send(200, dialect.models());
      if (step === undefined) return send(404, dialect.error(404, `no route ${path}`));
      if ('answer' in step) {
        const requested = (body as { model?: string } | undefined)?.model ?? 'unknown';
        return send(200, dialect.success({ text: step.answer, inputTokens: step.inputTokens ?? 7, outputTokens: step.outputTokens ?? 3, model: step.model ?? requested }));
      }
      if ('status' in step) return send(step.status, dialect.error(step.status, step.message ?? `scripted ${step.status}`), step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter });
      if ('hang' in step) {
        if (step.hang === 'after-headers') res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
        return; // and nothing more, until close() cuts the connection
      }
      if ('malformed' in step) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "half an answer", "choi');
      send(200, step.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeLlmServer = {
    baseUrl: `http://127.0.0.1:${port}${dialect.basePath}`,
    apiKey,
    requests,
    completions: () => requests.filter((request) => request.path === dialect.completionPath),
    script: (...steps) => void queue.push(...steps),
    fallbackStep: DEFAULT_ANSWER,
    modelsStep: undefined,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
};
