import { useCallback, useEffect, useRef, useState } from 'react';
import type { PreparedCall, Route, RouteResponse } from '../personal/http/apiContract.js';
import { ApiFailure, send } from './api';

export interface Resource<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
  /** Fetches again; the current data stays on screen until the new data arrives. */
  reload: () => Promise<void>;
}

/**
 * GETs a route (`useResource(prepare(routes.relationship, { ref: id }))`) and keeps the answer; a
 * null call fetches nothing. The call is made again when its URL changes.
 */
export function useResource<R extends Route>(call: PreparedCall<R> | null): Resource<RouteResponse<R>> {
  const [data, setData] = useState<RouteResponse<R> | undefined>(undefined);
  const [error, setError] = useState<ApiFailure | undefined>(undefined);
  const [loading, setLoading] = useState(call !== null);
  const generation = useRef(0);
  // The call is a new object every render; its URL names the request (a GET has no body).
  const url = call?.url ?? null;

  const load = useCallback(async () => {
    if (call === null) return;
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await send(call);
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (caught) {
      if (mine !== generation.current) return;
      setError(caught instanceof ApiFailure ? caught : new ApiFailure('internal', String(caught), 0));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [url]);

  useEffect(() => {
    setData(undefined);
    setError(undefined);
    void load();
    return () => {
      generation.current++;
    };
  }, [load]);

  return { data, error, loading, reload: load };
}

/** State for one action (a button's POST): running, the error to show next to it, and a runner. */
export function useAction(): {
  busy: boolean;
  error: string | undefined;
  setError: (message: string | undefined) => void;
  run: <T>(work: () => Promise<T>) => Promise<T | undefined>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await work();
    } catch (caught) {
      if (mounted.current && !(caught instanceof ApiFailure && caught.code === 'vault.locked')) setError(caught instanceof Error ? caught.message : String(caught));
      return undefined;
    } finally {
      if (mounted.current) setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
