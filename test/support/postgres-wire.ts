/**
 * Just enough of PostgreSQL's wire protocol (v3) for the test proxy to see
 * statements and their replies go by. Each direction is split into messages:
 * after the startup phase, a message is a 1-byte type and a 4-byte length
 * that counts itself but not the type.
 */
export interface WireMessage {
  /** '' for the untyped messages of the startup phase. */
  readonly type: string;
  readonly body: Buffer;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * Reads one direction. `framing` says how the next message is framed; `seen`
 * is told of each message before the next is framed, so it may change that.
 */
const messageReader = (framing: () => 'untyped' | 'byte' | 'typed', seen: (message: WireMessage) => void) => {
  let buffer: Buffer = Buffer.alloc(0);
  return (chunk: Buffer): void => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      const next = framing();
      if (next === 'byte') {
        if (buffer.length < 1) return;
        const type = String.fromCharCode(buffer[0]!);
        buffer = buffer.subarray(1);
        seen({ type, body: Buffer.alloc(0) });
        continue;
      }
      const header = next === 'typed' ? 1 : 0;
      if (buffer.length < header + 4) return;
      const end = header + buffer.readInt32BE(header);
      if (buffer.length < end) return;
      const message = { type: header ? String.fromCharCode(buffer[0]!) : '', body: buffer.subarray(header + 4, end) };
      buffer = buffer.subarray(end);
      seen(message);
    }
  };
};

/**
 * Both directions of one connection; each returns the messages a chunk
 * completed. An SSL or GSS encryption request is answered with one byte: on
 * 'N' the session goes on in the clear, on anything else it is encrypted and
 * can no longer be read (`opaque()`).
 */
export const connectionReader = () => {
  let clientStarted = false;
  let serverBytesExpected = 0;
  let opaque = false;
  let completed: WireMessage[] = [];
  const fromClient = messageReader(
    () => (clientStarted ? 'typed' : 'untyped'),
    (message) => {
      completed.push(message);
      if (message.type !== '') return;
      const code = message.body.readInt32BE(0);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) serverBytesExpected++;
      else clientStarted = true;
    },
  );
  const fromServer = messageReader(
    () => (serverBytesExpected > 0 ? 'byte' : 'typed'),
    (message) => {
      if (serverBytesExpected === 0) return void completed.push(message);
      serverBytesExpected--;
      if (message.type !== 'N') opaque = true;
    },
  );
  const read = (reader: (chunk: Buffer) => void, chunk: Buffer): WireMessage[] => {
    if (opaque) return [];
    completed = [];
    reader(chunk);
    return opaque ? [] : completed;
  };
  return {
    opaque: () => opaque,
    client: (chunk: Buffer): WireMessage[] => read(fromClient, chunk),
    server: (chunk: Buffer): WireMessage[] => read(fromServer, chunk),
  };
};

/** The SQL of a simple query ('Q') or of a statement being prepared ('P'), else undefined. */
export const statementText = ({ type, body }: WireMessage): string | undefined => {
  if (type === 'Q') return cString(body, 0);
  if (type === 'P') return cString(body, body.indexOf(0) + 1); // after the statement's name
  return undefined;
};

const cString = (body: Buffer, start: number): string => body.toString('utf8', start, body.indexOf(0, start));

export const isCommit = (sql: string): boolean => /^\s*(commit|end)(\s+(work|transaction))?\s*;?\s*$/i.test(sql);
