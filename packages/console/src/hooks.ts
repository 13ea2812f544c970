import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { BursarEvent } from "@bursar/sdk";
import { bursar, errorText } from "./api.ts";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change or `reload()` is called. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error: errorText(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { ...state, reload };
}

/** Calls `onEvent` for each live event matching `types` (SSE through the SDK, auto-resuming). */
export function useLiveEvents(types: string[], onEvent: (event: BursarEvent) => void): { connected: boolean } {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [connected, setConnected] = useState(false);
  const key = types.join(",");
  useEffect(() => {
    const controller = new AbortController();
    (async () => {
      try {
        setConnected(true);
        for await (const event of bursar.events.stream({ type: types, signal: controller.signal })) handler.current(event);
      } catch {
        // The stream ended (signed out, server gone): the screen still works by reloading.
      } finally {
        setConnected(false);
      }
    })();
    return () => controller.abort();
  }, [key]);
  return { connected };
}

/** Re-renders every second (countdowns). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
