/**
 * The part of express 5 the SCIM service provider uses (src/cli/demoScim.ts: the demo CRM, and the tests' provider).
 * express ships no types and @types/express is not a dependency; scimmy-routers' own declarations
 * import from "express", so this shim is what they resolve to as well.
 */
declare module 'express' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Request extends IncomingMessage {
    method: string;
    path: string;
    params: Record<string, string>;
    query: Record<string, unknown>;
    body: unknown;
    header(name: string): string | undefined;
  }
  export interface Response extends ServerResponse {
    status(code: number): Response;
    set(headers: Record<string, string>): Response;
    send(body?: unknown): Response;
    json(body: unknown): Response;
  }
  export type NextFunction = (error?: unknown) => void;
  export type RequestHandler = (req: Request, res: Response, next: NextFunction) => unknown;
  export interface Router {
    (req: IncomingMessage, res: ServerResponse): void;
    use(...handlers: (RequestHandler | Router | string)[]): Router;
  }
  export const Router: new (options?: { mergeParams?: boolean }) => Router;
  export interface Express extends Router {
    listen(port: number, host: string, callback?: () => void): import('node:http').Server;
  }
  interface ExpressFactory {
    (): Express;
    json(options?: { type?: string | string[]; limit?: string }): RequestHandler;
  }
  const express: ExpressFactory;
  export default express;
}
