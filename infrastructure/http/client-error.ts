import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { parserProblem, problemBody, type Problem } from './problem.ts';

/** What Node keeps on a server socket: the response being written on it (null between responses). */
type ServerSocket = Duplex & { readonly _httpMessage?: EventEmitter | null };

/** How long a client may take to read the answer and close, before the connection is cut. */
const LINGER_MS = 1000;

const answer = (socket: Duplex, problem: Problem): void => {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(problemBody(problem));
  const head = [
    `HTTP/1.1 ${problem.status} ${problem.title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  // Whatever the client still sends is read and dropped: closing on unread input resets the connection, answer lost.
  socket.resume();
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
};

/**
 * The server's 'clientError' listener: a request Node's HTTP parser refused
 * (unknown method, headers too large, malformed line) never reaches express,
 * so it is answered here, as problem+json like every other error, by hand on
 * the socket. The connection is then closed: after a parse error the rest of
 * the stream cannot be framed.
 */
export const answerClientError = (error: Error & { code?: unknown }, socket: ServerSocket): void => {
  const problem = parserProblem(error);
  if (!problem) return void socket.destroy();
  // Requests pipelined before the bad one are answered first, in order: an answer
  // written now would be read as theirs. Node moves the next queued response onto
  // the socket when one finishes, so this waits until none is left.
  const answerWhenIdle = (): void => {
    const inFlight = socket._httpMessage;
    if (inFlight) inFlight.once('finish', () => setImmediate(answerWhenIdle));
    else answer(socket, problem);
  };
  answerWhenIdle();
};
