import { ApiError, KithError, type KithErrorCode } from '../core/errors.js';
import { ERROR_TABLE } from '../core/errorTable.js';
import { silentLogger } from '../core/log.js';
import { createPersonalAgent } from '../personal/createPersonalAgent.js';
import { readRunningAgent, vaultPath } from '../personal/home.js';
import { prepare, type CallArgs, type Route, type RouteResponse } from '../personal/http/apiContract.js';
import { createLocalApi } from '../personal/http/localApi.js';
import { Vault } from '../personal/vault/vault.js';
import { newToken } from '../core/ids.js';
import { readSecret } from './common.js';

export const DEFAULT_PERSONAL_PORT = 7400;

/** The CLI's view of the local API: the same routes, whether the agent runs or not. */
export interface ApiClient {
  /**
   * Calls a route of the contract (src/personal/http/apiContract.ts): its path parameters, body and
   * query are typed by the route, and so is the answer (JSON, or text for a text route).
   * @throws KithError the agent's error, by its code
   */
  call<R extends Route>(route: R, ...args: CallArgs<R>): Promise<RouteResponse<R>>;
  /** True when no `kith serve` runs and the API runs inside this command (no background loops). */
  readonly inProcess: boolean;
  close(): void;
}

type Send = (path: string, init: RequestInit) => Promise<Response>;
type ErrorJson = { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;

function failure(status: number, json: ErrorJson): KithError {
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
    async call<R extends Route>(route: R, ...args: CallArgs<R>): Promise<RouteResponse<R>> {
      const prepared = prepare(route, ...args);
      const response = await send(prepared.url, { method: prepared.method, headers: { ...auth, ...prepared.headers }, ...(prepared.body === undefined ? {} : { body: prepared.body }) });
      if (!response.ok) throw failure(response.status, (await response.json().catch(() => undefined)) as ErrorJson);
      // The contract says what the route answers; the agent is ours, so its JSON is trusted here.
      if (route.answer === 'text') return (await response.text()) as RouteResponse<R>;
      return (await response.json().catch(() => undefined)) as RouteResponse<R>;
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
