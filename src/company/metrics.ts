import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HttpLimitCounts } from '../core/httpLimits.js';
import type { CompanyStore } from './store/types.js';

/*
 * The company agent's metrics in Prometheus text format (prom-client), served at /metrics (admin
 * token): queue depths read from the store when scraped (so every process reports the shared
 * queues), delivery latency and messages received by outcome counted in this process. Nothing
 * personal: labels are outcome codes, roles and connector ids (set by the company), never a customer's.
 */

export interface CompanyMetrics {
  /** One inbound message, by its outcome: `accepted` or the error code it was refused with. */
  received(outcome: string): void;
  /** A queued message her agent accepted, `latencyMs` after it was queued. */
  delivered(latencyMs: number): void;
  /** The HTTP server's refusals (core/httpLimits.ts), read when scraped. */
  watchHttpLimits(counts: HttpLimitCounts): void;
  /** The exposition text, and its content type. */
  text(): Promise<{ body: string; contentType: string }>;
}

export function createCompanyMetrics(store: CompanyStore, labels: { role: string }): CompanyMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'kith_company_' });
  const received = new Counter({ name: 'kith_company_messages_received_total', help: 'DIDComm messages received, by outcome (accepted or the refusal code)', labelNames: ['outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'kith_company_outbox_delivery_seconds',
    help: 'Time from queueing a message for her to her agent accepting it',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600],
    registers: [registry],
  });
  new Gauge({
    name: 'kith_company_outbox_depth',
    help: 'Messages queued for customers, not yet delivered or picked up (all processes)',
    registers: [registry],
    async collect() {
      this.set(await store.countPendingOutbox());
    },
  });
  new Gauge({
    name: 'kith_company_connector_events_depth',
    help: 'Events for the company systems not yet dispatched (all processes)',
    registers: [registry],
    async collect() {
      this.set(await store.countUndispatchedEvents());
    },
  });
  new Gauge({
    name: 'kith_company_connector_deliveries',
    help: 'Events per connector and delivery state: delivered, failed (to be retried) or dead (dead letters), all processes',
    labelNames: ['connector', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { connectorId, state, count } of await store.countConnectorDeliveries()) this.set({ connector: connectorId, state }, count);
    },
  });
  let limitCounts: HttpLimitCounts | undefined;
  new Counter({
    name: 'kith_company_http_refused_total',
    help: 'Requests this process refused or cut before its app answered them, by reason: rate_limited (429), overloaded (503), too_large (413), body_timeout (408)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      if (!limitCounts) return;
      this.reset();
      this.inc({ reason: 'rate_limited' }, limitCounts.rateLimited);
      this.inc({ reason: 'overloaded' }, limitCounts.overloaded);
      this.inc({ reason: 'too_large' }, limitCounts.tooLarge);
      this.inc({ reason: 'body_timeout' }, limitCounts.bodyTimeouts);
    },
  });
  return {
    watchHttpLimits: (counts) => {
      limitCounts = counts;
    },
    received: (outcome) => received.inc({ outcome }),
    delivered: (latencyMs) => latency.observe(Math.max(0, latencyMs) / 1000),
    async text() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
