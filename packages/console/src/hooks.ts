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

/** How long after the live stream gives up (the SDK's reconnects are spent) the list is read again and a new stream opened. */
const liveListRetryMs = 5_000;

/**
 * A list kept current by the live event stream, with nothing missed and no polling. The list's
 * answer says the journal position it was read at (`journal_seq`, the SDK's `Page.journalSeq`);
 * the stream opens from that position (`after_seq`), so an event committed after the read (even
 * before the stream opened) is replayed, not missed, and the SDK resumes a dropped stream from its
 * Last-Event-ID. Each matching event reads the list again; the stream stays open across those
 * reads and across changes of `deps` (filters). Should the stream give up, the list is read again
 * after `liveListRetryMs` and a new stream opens from the new position.
 */
export function useLiveList<T>(load: () => Promise<{ value: T; journalSeq: number | null }>, types: string[], deps: unknown[] = []): Loaded<T> & { connected: boolean } {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const [connected, setConnected] = useState(false);
  const stream = useRef<AbortController | null>(null);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  const key = types.join(",");
  const open = (afterSeq: number | null) => {
    const controller = new AbortController();
    stream.current = controller;
    setConnected(true);
    void (async () => {
      try {
        for await (const _event of bursar.events.stream({ type: types, after_seq: afterSeq ?? undefined, signal: controller.signal })) reload();
      } catch {
        // Given up (signed out, server gone, reconnects spent): read again below.
      } finally {
        if (stream.current === controller) {
          stream.current = null;
          setConnected(false);
          setTimeout(reload, liveListRetryMs);
        }
      }
    })();
  };
  useEffect(() => () => {
    stream.current?.abort();
    stream.current = null;
  }, [key]);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      ({ value, journalSeq }) => {
        if (!live) return;
        setState({ data: value, error: null, loading: false });
        if (stream.current === null) open(journalSeq);
      },
      (error: unknown) => live && setState({ data: null, error: errorText(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, key, tick]);
  return { ...state, reload, connected };
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
