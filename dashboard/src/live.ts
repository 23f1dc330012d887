// New events without a reload: §8's Subscription.events where the server has it (graphql-ws
// over /graphql, the token in connection_init), else a poll every 10 s.
import { useEffect, useState } from "preact/hooks";
import { currentToken } from "./api/client";
import { LIVE_EVENTS } from "./api/optional";

export const POLL_MS = 10_000;

/** A counter that goes up whenever the site may have new events. */
export function useLiveTick(siteId: string, subscribe: boolean): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stop = () => {};
    let timer: number | undefined;
    const bump = () => {
      // a burst of events is one refresh
      if (timer === undefined) timer = window.setTimeout(() => { timer = undefined; setTick((t) => t + 1); }, 500);
    };
    const poll = () => {
      const id = window.setInterval(() => setTick((t) => t + 1), POLL_MS);
      stop = () => clearInterval(id);
    };
    let cancelled = false;
    if (subscribe) {
      import("graphql-ws").then(({ createClient }) => {
        if (cancelled) return;
        const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
        const client = createClient({
          url, lazy: true, retryAttempts: 3, onNonLazyError: () => {},
          connectionParams: { Authorization: `Bearer ${currentToken()}` },
        });
        const unsubscribe = client.subscribe(
          { query: LIVE_EVENTS, variables: { siteId } },
          { next: bump, error: () => { void Promise.resolve(client.dispose()).catch(() => {}); if (!cancelled) poll(); }, complete: () => {} },
        );
        stop = () => { unsubscribe(); client.dispose(); };
      }, () => poll());
    } else {
      poll();
    }
    return () => { cancelled = true; stop(); clearTimeout(timer); };
  }, [siteId, subscribe]);
  return tick;
}
