import type { ApiClient } from '../apiClient.js';
import type { GlobalOptions } from '../common.js';

/** What every `kith` command module gets from the program: its options and a client to the agent. */
export interface CommandContext {
  globals(): GlobalOptions;
  withClient<T>(fn: (client: ApiClient) => Promise<T>): Promise<T>;
}
