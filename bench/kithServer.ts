/**
 * The Kith company agent as the bench measures it: the real hono app on node:http (src/core/listen.ts)
 * in front of the real agent (unpack, verify, replay check, SQLite in WAL mode in a temp dir or a
 * PostgreSQL schema shared by the company's processes, 202).
 * The outbox loop of `kith-vendor serve` is left out: with no outbox traffic it would only prune.
 *
 * Run by bench/run.ts with `fork`; it receives the company identity and engine over IPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../src/core/listen.js';
import { silentLogger } from '../src/core/log.js';
import { joseEngine } from '../src/protocol/envelope/joseEngine.js';
import { fastEngine } from '../src/protocol/envelope/fastEngine.js';
import { parsePolicy } from '../src/company/config.js';
import { createCompanyAgent } from '../src/company/createCompanyAgent.js';
import { createCompanyApp } from '../src/company/http/app.js';
import { openPostgresCompanyStore } from '../src/company/store/postgres.js';
import { openSqliteCompanyStore } from '../src/company/store/sqlite.js';
import type { ServerCommand, ServerEvent, ServerStart } from './run.js';

const MAX_MESSAGE_BYTES = 256 * 1024;
const send = (event: ServerEvent) => process.send?.(event);

process.once('message', async (start: ServerStart) => {
  const dir = mkdtempSync(join(tmpdir(), 'kith-bench-'));
  // SQLite in a temp dir, or a schema of the bench's PostgreSQL that every process of this company shares.
  const store = start.postgres ? await openPostgresCompanyStore(start.postgres.url, { schema: start.postgres.schema }) : await openSqliteCompanyStore(join(dir, 'company.db'));
  const agent = createCompanyAgent({
    name: 'Bench Company',
    publicUrl: 'http://127.0.0.1',
    store,
    identity: start.identity,
    policy: parsePolicy({}),
    engine: start.engine === 'jose' ? joseEngine : fastEngine,
    maxMessageBytes: MAX_MESSAGE_BYTES,
  });
  const app = createCompanyApp({ agent, adminToken: 'bench-admin-token', maxMessageBytes: MAX_MESSAGE_BYTES, logger: silentLogger });
  const listening = await listen(app, 0, '127.0.0.1');
  send({ type: 'listening', port: listening.port });

  process.on('message', async (command: ServerCommand) => {
    if (command.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
    if (command.type === 'stop') {
      const relationships = await agent.relationships();
      const stored = relationships[0] ? (await agent.messages(relationships[0].id)).length : 0;
      send({ type: 'stored', count: stored });
      await listening.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  });
});
