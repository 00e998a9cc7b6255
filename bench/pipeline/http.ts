import http from 'node:http';

export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
}

/** A keep-alive JSON client with at most `sockets` connections: what a busy client of Tally does. */
export const jsonClient = (sockets: number) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const authorization = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
  const request = (method: string, url: string, body?: unknown): Promise<JsonReply> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(url, {
        method,
        agent,
        headers: { authorization, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  return {
    get: (url: string) => request('GET', url),
    post: (url: string, body: unknown) => request('POST', url, body),
    close: () => agent.destroy(),
  };
};
