/**
 * After a cut-off with a signed erasure receipt, the company keeps nothing of her: not in its
 * tables, and on SQLite not in the bytes of its files either (the WAL, free pages and cell gaps
 * keep deleted rows unless the store scrubs them). Real agents over real HTTP, a real store.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { openPostgresCompanyStore } from '../../src/company/store/postgres.js';
import { connect, startCompany, startPersonal, type CompanyHandle, type Link, type PersonalHandle } from '../support/agents.js';

/** A string found nowhere but where she put it: in her email, her address and her messages. */
function newMarker(): string {
  return `kithmark${randomBytes(6).toString('hex')}`;
}

interface Scene {
  personal: PersonalHandle;
  company: CompanyHandle;
  link: Link;
  marker: string;
}

/** She connects, shares an email and an address carrying the marker, changes the address, and both sides write messages carrying it. */
async function shareEverything(personal: PersonalHandle, company: CompanyHandle, marker: string): Promise<Link> {
  personal.agent.profile.set({
    name: `Ada ${marker}`,
    email: `${marker}@example.org`,
    address: { street_address: `12 ${marker} Square`, locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
  });
  const link = await connect(personal, company);
  const sent = await company.agent.requestDisclosure(link.companyRelationship.id, { fields: ['name', 'email', 'address'], purpose: 'Deliveries', retention: 'P1Y' });
  expect(sent.delivered).toBe(true);
  const [request] = personal.agent.disclosure.requests();
  await personal.agent.disclosure.approve(request!.id);
  // A change of address: the company stores the update's presentation and the new value.
  personal.agent.profile.set({ address: { street_address: `7 ${marker} Parade`, locality: 'Brighton', postal_code: 'BN1 1AA', country: 'GB' } });
  expect(await personal.agent.profile.deliver()).toMatchObject({ acked: 1 });
  expect((await personal.agent.sendMessage(link.view.id, `Please deliver to ${marker}`)).status).toBe('sent');
  await company.agent.sendMessage(link.companyRelationship.id, `Noted, ${marker}`);
  const fields = (await company.agent.holdings(link.companyRelationship.id)).fields;
  expect(JSON.stringify(fields)).toContain(marker);
  return link;
}

describe('erasure on a SQLite company store', () => {
  let scene: Scene | undefined;
  afterEach(async () => {
    await scene?.personal.cleanup();
    await scene?.company.cleanup();
    scene = undefined;
  });

  /** The raw bytes of the store's files (database, WAL, shared memory), read while the store is open. */
  function storeBytes(company: CompanyHandle): Buffer {
    return Buffer.concat(['', '-wal', '-shm'].map((suffix) => company.dbPath + suffix).filter((path) => existsSync(path)).map((path) => readFileSync(path)));
  }

  it('leaves none of her address, email, messages or DID in the database file, its WAL or its shared memory', async () => {
    const personal = await startPersonal();
    const company = await startCompany();
    const marker = newMarker();
    scene = { personal, company, link: await shareEverything(personal, company, marker), marker };
    const herDid = scene.link.record.myDid;
    // The scan finds what is there: before the cut-off, her data is in the files.
    expect(storeBytes(company).includes(marker)).toBe(true);
    expect(storeBytes(company).includes(herDid)).toBe(true);

    const receipt = await personal.agent.cutOff(scene.link.view.id);
    expect(receipt.body).toMatchObject({ relationship: herDid });
    // The erasure event tells the company's systems the customer number, then is redacted.
    expect(await company.agent.dispatchEvents()).toBeGreaterThan(0);

    // Read with the store still open: closing it would checkpoint and delete the WAL, hiding what a running company keeps.
    const bytes = storeBytes(company);
    expect(bytes.includes(marker), 'the marker is still in the SQLite files').toBe(false);
    expect(bytes.includes(herDid), 'her DID is still in the SQLite files').toBe(false);
    expect(bytes.includes(scene.link.companyRelationship.customerRef)).toBe(false);
    // The WAL holds no old page after an erasure.
    expect(existsSync(`${company.dbPath}-wal`) ? readFileSync(`${company.dbPath}-wal`).length : 0).toBe(0);
  });
});

const postgresUrl = inject('postgresUrl');
if (postgresUrl === undefined) console.warn('PostgreSQL not available: SKIPPING the erasure test on a PostgreSQL company store');

describe.skipIf(postgresUrl === undefined)('erasure on a PostgreSQL company store', () => {
  const schemas: string[] = [];
  let scene: Scene | undefined;
  afterEach(async () => {
    await scene?.personal.cleanup();
    await scene?.company.cleanup();
    scene = undefined;
  });
  afterAll(async () => {
    if (postgresUrl === undefined) return;
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  });

  /** Every row of every table of `schema`, as PostgreSQL's text form of the row. */
  async function everyRow(schema: string): Promise<{ table: string; row: string }[]> {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1 order by table_name', [schema]);
      const rows: { table: string; row: string }[] = [];
      for (const { table_name: table } of tables.rows) {
        const result = await client.query<{ row: string }>(`select t::text as row from "${schema}"."${table}" t`);
        rows.push(...result.rows.map(({ row }) => ({ table, row })));
      }
      return rows;
    } finally {
      await client.end();
    }
  }

  it('leaves no row holding her data, and none naming the relationship but its tombstone, the erasure event and the record that the deletion was done', async () => {
    const schema = `kith_erasure_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const personal = await startPersonal();
    const company = await startCompany({ openStore: () => openPostgresCompanyStore(postgresUrl!, { schema }) });
    const marker = newMarker();
    scene = { personal, company, link: await shareEverything(personal, company, marker), marker };
    const relationshipId = scene.link.companyRelationship.id;
    const herDid = scene.link.record.myDid;
    const before = await everyRow(schema);
    expect(before.some(({ row }) => row.includes(marker))).toBe(true);
    expect(new Set(before.filter(({ row }) => row.includes(relationshipId)).map(({ table }) => table)).size).toBeGreaterThan(5);

    await personal.agent.cutOff(scene.link.view.id);
    // The erasure event reaches the company's systems, then its payload is redacted.
    expect(await company.agent.dispatchEvents()).toBeGreaterThan(0);

    const after = await everyRow(schema);
    expect(after.filter(({ row }) => row.includes(marker))).toEqual([]);
    expect(after.filter(({ row }) => row.includes(herDid))).toEqual([]);
    expect(after.filter(({ row }) => row.includes(scene!.link.companyRelationship.customerRef))).toEqual([]);
    const naming = after.filter(({ row }) => row.includes(relationshipId));
    expect(naming.map(({ table }) => table).sort()).toEqual(['connector_events', 'data_rights_requests', 'relationships', 'tombstones']);
    // The record that her deletion was fulfilled (Data Rights Protocol words): ids, exercise, status only.
    expect(naming.find(({ table }) => table === 'data_rights_requests')?.row).toMatch(/"exercise":"deletion".*"status":"fulfilled"|deletion.*fulfilled/);
    expect(naming.find(({ table }) => table === 'relationships')?.row).toContain(`tombstone:${relationshipId}`);
    expect(naming.find(({ table }) => table === 'connector_events')?.row).toContain('relationship.erased');
  });
});
