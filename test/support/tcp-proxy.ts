import net from 'node:net';
import { connectionReader, isCommit, statementText } from './postgres-wire.ts';

export interface TcpProxy {
  readonly port: number;
  /** The same database URL, reached through this proxy. */
  url(databaseUrl: string): string;
  /**
   * On: nothing is forwarded any more, either way, and every socket stays
   * open, as with a peer that died without a word (a half-open connection).
   * Connections open while it is on stay dead; those made after it is turned
   * off work. A client may still close its own socket, which closes the
   * server side too.
   */
  blackhole(on: boolean): void;
  /**
   * The next COMMIT a client sends (simple query, or parsed for the extended
   * protocol) is forwarded; the server's reply is not: once the server is
   * ready for the next query (so the commit is done), the client socket is
   * destroyed. Resolves then. Assumes a client that waits for each reply, as
   * pg (unpipelined) and knex do, and a session in the clear. Each call
   * cuts one more COMMIT.
   */
  cutAfterNextCommit(): Promise<void>;
  /** The same, for the next statement `matches` picks (a LISTEN, say). */
  cutAfterNext(matches: (statement: string) => boolean): Promise<void>;
  /** Closes every connection open now, both ways, as a lost link would; new ones work. */
  cut(): void;
  /** Client connections open now. */
  connections(): number;
  close(): Promise<void>;
}

interface Link {
  readonly client: net.Socket;
  readonly server: net.Socket | undefined;
  dead: boolean;
}

/** A TCP proxy for tests that break the network under PostgreSQL clients on purpose. */
export const startTcpProxy = async (target: { host: string; port: number }): Promise<TcpProxy> => {
  const links = new Set<Link>();
  let blackholed = false;
  /** One per pending `cutAfterNext…`, in call order. */
  const cuts: { matches: (statement: string) => boolean; done: () => void }[] = [];

  const link = (client: net.Socket): void => {
    const dead = blackholed;
    // A dead peer never answers the connection attempt either.
    const server = dead ? undefined : net.connect(target.port, target.host);
    const current: Link = { client, server, dead };
    links.add(current);
    const wire = connectionReader();
    let cutting: (() => void) | undefined;

    const closeBoth = (): void => {
      links.delete(current);
      client.destroy();
      server?.destroy();
    };
    client.on('error', closeBoth);
    client.on('close', closeBoth);
    server?.on('error', closeBoth);
    // The server going away is only told to a client that can still hear it.
    server?.on('close', () => {
      if (!current.dead) closeBoth();
    });

    client.on('data', (chunk: Buffer) => {
      if (current.dead || !server) return;
      const messages = wire.client(chunk);
      const statements = messages.map((message) => statementText(message) ?? '');
      const due = cutting ? -1 : cuts.findIndex(({ matches }) => statements.some(matches));
      if (due >= 0) cutting = cuts.splice(due, 1)[0]!.done;
      server.write(chunk);
    });
    server?.on('data', (chunk: Buffer) => {
      if (current.dead) return;
      const messages = wire.server(chunk);
      if (!cutting) return void client.write(chunk);
      if (!messages.some(({ type }) => type === 'Z')) return;
      closeBoth();
      cutting();
    });
  };

  const cutAfterNext = (matches: (statement: string) => boolean): Promise<void> =>
    new Promise<void>((done) => void cuts.push({ matches, done }));

  const cut = (): void => {
    for (const each of links) {
      each.client.destroy();
      each.server?.destroy();
    }
    links.clear();
  };

  const listener = net.createServer(link);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const { port } = listener.address() as net.AddressInfo;

  return {
    port,
    url: (databaseUrl) => {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      url.searchParams.delete('host');
      return url.toString();
    },
    blackhole: (on) => {
      blackholed = on;
      if (on) for (const each of links) each.dead = true;
    },
    cutAfterNextCommit: () => cutAfterNext(isCommit),
    cutAfterNext,
    cut,
    connections: () => links.size,
    close: async () => {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      cut();
      await closed;
    },
  };
};
