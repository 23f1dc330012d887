// New events without a reload: §8's Subscription.events where the server has it (graphql-ws
// over /graphql, the token in connection_init), else a poll every 10 s.
//
// A subscription only tells of events stored after it starts, and on PostgreSQL an announcement
// made while a server's LISTEN connection is being re-made is not replayed (server/live/feed.py).
// So the view re-reads once the socket is up (events stored between the first read and the
// subscription) and, while subscribed, every SAFETY_POLL_MS as well.
import { useEffect, useState } from "preact/hooks";
import { currentToken } from "./api/client";
import { LIVE_EVENTS } from "./api/optional";

export const POLL_MS = 10_000;
export const SAFETY_POLL_MS = 60_000;

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
    const poll = (every = POLL_MS) => {
      const id = window.setInterval(() => setTick((t) => t + 1), every);
      stop = () => clearInterval(id);
      return id;
    };
    let cancelled = false;
    if (subscribe) {
      import("graphql-ws").then(({ createClient }) => {
        if (cancelled) return;
        const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
        const client = createClient({
          url, lazy: true, retryAttempts: 3, onNonLazyError: () => {},
          connectionParams: { Authorization: `Bearer ${currentToken()}` },
          on: { connected: bump },
        });
        const safety = poll(SAFETY_POLL_MS);
        const unsubscribe = client.subscribe(
          { query: LIVE_EVENTS, variables: { siteId } },
          {
            next: bump,
            error: () => {
              clearInterval(safety);
              void Promise.resolve(client.dispose()).catch(() => {});
              if (!cancelled) poll();
            },
            complete: () => {},
          },
        );
        stop = () => { clearInterval(safety); unsubscribe(); client.dispose(); };
      }, () => poll());
    } else {
      poll();
    }
    return () => { cancelled = true; stop(); clearTimeout(timer); };
  }, [siteId, subscribe]);
  return tick;
}
