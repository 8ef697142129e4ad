// The web process's Prometheus registry: live event streams (viewers, pollers, refusals) and the process's
// own figures (prefixed portal_web_, so they never clash with the start command's when served together).
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { operationFeeds } from "../event-streams";

const holder = globalThis as unknown as { __portalWebRegistry?: Registry };

export function webRegistry(): Registry {
  if (holder.__portalWebRegistry) return holder.__portalWebRegistry;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "portal_web_" });
  const registers = [registry];
  new Gauge({
    name: "portal_event_streams_open",
    help: "Server-sent event streams (live operation views) open in this web process",
    registers,
    collect() {
      this.set(operationFeeds().viewers);
    },
  });
  new Gauge({
    name: "portal_event_feeds_active",
    help: "Operations being polled for their live views in this web process (one poller each, shared by its viewers)",
    registers,
    collect() {
      this.set(operationFeeds().activeFeeds);
    },
  });
  let reported = 0;
  const rejected = new Counter({
    name: "portal_event_streams_rejected_total",
    help: "Live views refused because this web process had EVENT_STREAMS_MAX open (the browser retries)",
    registers,
    collect() {
      const now = operationFeeds().rejected;
      if (now > reported) this.inc(now - reported);
      reported = now;
    },
  });
  void rejected;
  holder.__portalWebRegistry = registry;
  return registry;
}
