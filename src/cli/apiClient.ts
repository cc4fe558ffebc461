import { ApiError, KithError, type KithErrorCode } from '../core/errors.js';
import { ERROR_TABLE } from '../core/errorTable.js';
import { silentLogger } from '../core/log.js';
import { createPersonalAgent } from '../personal/createPersonalAgent.js';
import { readRunningAgent, vaultPath } from '../personal/home.js';
import { createLocalApi } from '../personal/http/localApi.js';
import { Vault } from '../personal/vault/vault.js';
import { newToken } from '../core/ids.js';
import { readSecret } from './common.js';

export const DEFAULT_PERSONAL_PORT = 7400;

/** The CLI's view of the local API: the same routes, whether the agent runs or not. */
export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface ApiClient {
  /** JSON in, JSON out; a string `body` with `contentType` is sent as is (e.g. a vCard). */
  call<T>(method: HttpMethod, path: string, body?: unknown, options?: { contentType?: string }): Promise<T>;
  /** For routes answering with text (the vCard export). */
  text(path: string): Promise<string>;
  /** True when no `kith serve` runs and the API runs inside this command (no background loops). */
  readonly inProcess: boolean;
  close(): void;
}

type Send = (path: string, init: RequestInit) => Promise<Response>;

function failure(status: number, json: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined): KithError {
  const code = json?.error?.code;
  if (code && code in ERROR_TABLE) {
    return new KithError(code as KithErrorCode, json?.error?.message ?? code, json?.error?.details ? { details: json.error.details } : {});
  }
  return new ApiError('api.bad_request', `HTTP ${status}`);
}

function clientOver(send: Send, host: string, token: string, inProcess: boolean, onClose: () => void): ApiClient {
  const auth = { authorization: `Bearer ${token}`, host };
  return {
    inProcess,
    async call<T>(method: HttpMethod, path: string, body?: unknown, options: { contentType?: string } = {}): Promise<T> {
      const headers: Record<string, string> = { ...auth };
      const raw = typeof body === 'string' && options.contentType !== undefined;
      if (body !== undefined) headers['content-type'] = raw ? (options.contentType as string) : 'application/json';
      const payload = body === undefined ? {} : { body: raw ? (body as string) : JSON.stringify(body) };
      const response = await send(path, { method, headers, ...payload });
      const json = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
      if (!response.ok) throw failure(response.status, json);
      return json as T;
    },
    async text(path: string): Promise<string> {
      const response = await send(path, { method: 'GET', headers: auth });
      if (!response.ok) throw failure(response.status, (await response.json().catch(() => undefined)) as never);
      return response.text();
    },
    close: onClose,
  };
}

/**
 * Talks to the running `kith serve` of this home if there is one; otherwise unlocks the vault and
 * runs the same local API in this process, so every command works with the agent up or down.
 */
export async function openApiClient(home: string): Promise<ApiClient> {
  const running = readRunningAgent(home);
  if (running) {
    const host = `127.0.0.1:${running.port}`;
    return clientOver((path, init) => fetch(`${running.url}${path}`, init), host, running.token, false, () => undefined);
  }
  const passphrase = await readSecret('KITH_PASSPHRASE', 'Passphrase: ');
  const vault = Vault.open(vaultPath(home), passphrase);
  const port = Number(vault.settings.get('servePort') ?? DEFAULT_PERSONAL_PORT);
  const agent = createPersonalAgent({ vault, inboundBaseUrl: () => `http://127.0.0.1:${port}` });
  const token = newToken();
  const app = createLocalApi({ agent, token, port: () => port, maxMessageBytes: 256 * 1024, logger: silentLogger });
  return clientOver(async (path, init) => app.request(path, init), `127.0.0.1:${port}`, token, true, () => vault.close());
}
