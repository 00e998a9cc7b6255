import type { Server } from 'node:http';
import type { Express } from 'express';
import { answerClientError } from './client-error.ts';

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

export const serve = (app: Express, port: number, host = '0.0.0.0'): Promise<RunningServer> =>
  new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host);
    server.on('clientError', answerClientError);
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Long-polls and keep-alive sockets must not hold shutdown hostage.
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 2000).unref();
          }),
      });
    });
  });
