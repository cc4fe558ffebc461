import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { writePrivateFile } from '../core/privateFiles.js';
import { listenScim, scimApp, type ScimUserStore } from './demoScim.js';
import { terminalLine } from './terminalText.js';

/*
 * `npm start`'s stand-in for Acme's CRM as a SCIM 2.0 service provider (demoScim.ts, on scimmy):
 * Acme's SCIM connector keeps one User per customer there, and the demo prints each change with
 * the customer number and the attribute names, never a value (its output may go to a file).
 */

export interface DemoCrm {
  server: Server;
  /** `http://127.0.0.1:<port>/scim` */
  baseUrl: string;
  /** The bearer token's file (0600), which the connector reads. */
  tokenFile: string;
}

const SHOWN = ['name', 'emails', 'phoneNumbers', 'addresses', 'nickName', 'locale', 'timezone', 'profileUrl', 'title'];

export async function startDemoCrm(demoHome: string, port: number, print: (line: string) => void): Promise<DemoCrm> {
  const tokenFile = join(demoHome, 'crm-scim-token');
  if (!existsSync(tokenFile)) writePrivateFile(tokenFile, `${randomBytes(24).toString('base64url')}\n`);
  const token = readFileSync(tokenFile, 'utf8').trim();
  const store: ScimUserStore = {
    users: new Map(),
    changed({ kind, user }) {
      const who = typeof user.data['userName'] === 'string' ? user.data['userName'] : user.id;
      if (kind === 'deleted') print(terminalLine(`SCIM: Acme's CRM deleted User ${who}`));
      else print(terminalLine(`SCIM: Acme's CRM holds User ${who} (${SHOWN.filter((a) => user.data[a] !== undefined).join(', ') || 'no attributes'})`));
    },
  };
  const server = await listenScim(scimApp(store, token), port);
  return { server, baseUrl: `http://127.0.0.1:${port}/scim`, tokenFile };
}
