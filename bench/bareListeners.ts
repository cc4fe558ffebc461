/**
 * The fan-out baseline's other end: `count` bare node:http listeners in one process, each reading
 * the whole request body and answering 200 with `replyBytes` bytes (the size of a Kith ack). No
 * crypto, no storage, no framework: the least a company could do with an update.
 *
 * Run by bench/fanout.ts with `fork`; told `{count, replyBytes}` over IPC, it answers with its ports.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BareStart {
  count: number;
  replyBytes: number;
}
export type BareEvent = { type: 'listening'; ports: number[] };

process.once('message', (start: BareStart) => {
  const reply = Buffer.alloc(start.replyBytes, 'a');
  const servers: Server[] = [];
  const listening = Array.from(
    { length: start.count },
    () =>
      new Promise<number>((done, reject) => {
        const server = createServer((request, response) => {
          let size = 0;
          request.on('data', (chunk: Buffer) => (size += chunk.length));
          request.on('end', () => {
            if (size === 0) response.writeHead(400).end();
            else response.writeHead(200, { 'content-type': 'application/didcomm-encrypted+json', 'content-length': reply.length }).end(reply);
          });
        });
        servers.push(server);
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port));
      }),
  );
  void Promise.all(listening).then((ports) => process.send?.({ type: 'listening', ports } satisfies BareEvent));
  process.on('message', (command: { type: 'stop' }) => {
    if (command.type !== 'stop') return;
    for (const server of servers) server.closeAllConnections();
    void Promise.all(servers.map((server) => new Promise((done) => server.close(done)))).then(() => process.exit(0));
  });
});
