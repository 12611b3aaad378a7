import type { Redis } from "ioredis";

/** One pub/sub channel for what replicas tell each other (lockouts, cooldowns), on its own connection. */
export const EVENTS_CHANNEL = "openclaw:events";

export interface ReplicaEvent {
  kind: string;
  [field: string]: unknown;
}

type Listener = (event: ReplicaEvent) => void;

/**
 * Subscribes once and dispatches by `kind`. After every (re)connect `onResync` runs, so a
 * replica that started late or was cut off reads what is in force (events sent meanwhile are lost).
 */
export class EventChannel {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly resyncs = new Set<() => void>();

  /** `client`: the command connection, whose reconnects also call for a resync. */
  constructor(subscriber: Redis, client: Redis) {
    subscriber.on("message", (channel: string, text: string) => {
      if (channel !== EVENTS_CHANNEL) return;
      let event: ReplicaEvent;
      try {
        event = JSON.parse(text) as ReplicaEvent;
      } catch {
        return;
      }
      if (typeof event?.kind !== "string") return;
      for (const listener of this.listeners.get(event.kind) ?? []) listener(event);
    });
    const resync = () => {
      for (const each of this.resyncs) each();
    };
    // Subscribed on every (re)connect, then what is in force is read: nothing falls between the two.
    subscriber.on("ready", () => void subscriber.subscribe(EVENTS_CHANNEL).then(resync, () => undefined));
    client.on("ready", resync);
  }

  on(kind: string, listener: Listener): () => void {
    let set = this.listeners.get(kind);
    if (!set) {
      set = new Set();
      this.listeners.set(kind, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  onResync(resync: () => void): () => void {
    this.resyncs.add(resync);
    return () => this.resyncs.delete(resync);
  }
}
