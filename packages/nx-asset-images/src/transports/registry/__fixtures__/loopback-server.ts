// Starts a test server on 127.0.0.1 (a free port) and closes it with its open
// connections: the one listen/close of the registry fixtures.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackAddress {
  /** `127.0.0.1:<port>` */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export async function listenLoopback(server: Server): Promise<LoopbackAddress> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
