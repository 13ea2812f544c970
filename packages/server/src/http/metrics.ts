/** Prometheus metrics, one registry per app (tests build many apps in one process). */
import type { FastifyInstance } from "fastify";
import { Registry, collectDefaultMetrics, type Metric } from "prom-client";

/** Route label of requests that matched no route. */
export const unmatchedRoute = "unmatched";

const durationBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** One route pattern and method: its answers by status and its latency histogram. */
interface RouteTally {
  method: string;
  route: string;
  byStatus: Map<number, number>;
  /** Answers at or below each bucket's bound (not cumulative; summed when read). */
  buckets: number[];
  sumSeconds: number;
  count: number;
}

type MetricValue = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * A metric in the shape prom-client's registry reads (`get()`), computed from the tallies when
 * scraped. prom-client's own Counter and Histogram hash a fresh label object on every call
 * (issue 19: the fixed per-request cost); here a request costs one Map lookup and a few adds.
 */
function tallyMetric(name: string, help: string, type: "counter" | "histogram", values: () => MetricValue[]): Metric {
  const get = async () => ({ name, help, type, values: values(), aggregator: "sum" as const });
  return { name, help, type, aggregator: "sum", get, reset: () => undefined } as unknown as Metric;
}

/**
 * Creates the app's registry with process metrics and per-route request metrics. Labels use the
 * route pattern (`/v1/accounts/:id`), never the raw URL: ids and query strings would give every
 * request its own time series and exhaust Prometheus (unbounded label cardinality).
 */
export function installMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Keyed by method and route pattern: bounded by the routes the app declares.
  const tallies = new Map<string, RouteTally>();
  registry.registerMetric(
    tallyMetric("http_requests_total", "HTTP requests answered, by method, route pattern and status.", "counter", () =>
      [...tallies.values()].flatMap((tally) => [...tally.byStatus].map(([status, value]) => ({ labels: { method: tally.method, route: tally.route, status: String(status) }, value }))),
    ),
  );
  const durationName = "http_request_duration_seconds";
  registry.registerMetric(
    tallyMetric(durationName, "Time to answer HTTP requests, by method and route pattern.", "histogram", () =>
      [...tallies.values()].flatMap((tally) => {
        const labels = { method: tally.method, route: tally.route };
        let cumulative = 0;
        const buckets = durationBucketsSeconds.map((bound, i): MetricValue => {
          cumulative += tally.buckets[i]!;
          return { labels: { le: bound, ...labels }, value: cumulative, metricName: `${durationName}_bucket` };
        });
        return [
          ...buckets,
          { labels: { le: "+Inf", ...labels }, value: tally.count, metricName: `${durationName}_bucket` },
          { labels, value: tally.sumSeconds, metricName: `${durationName}_sum` },
          { labels, value: tally.count, metricName: `${durationName}_count` },
        ];
      }),
    ),
  );
  // Callback style: no promise per request.
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? unmatchedRoute;
    const key = `${request.method} ${route}`;
    let tally = tallies.get(key);
    if (tally === undefined) {
      tally = { method: request.method, route, byStatus: new Map(), buckets: durationBucketsSeconds.map(() => 0), sumSeconds: 0, count: 0 };
      tallies.set(key, tally);
    }
    tally.byStatus.set(reply.statusCode, (tally.byStatus.get(reply.statusCode) ?? 0) + 1);
    const seconds = reply.elapsedTime / 1000;
    const bucket = durationBucketsSeconds.findIndex((bound) => seconds <= bound);
    if (bucket !== -1) tally.buckets[bucket]!++;
    tally.sumSeconds += seconds;
    tally.count++;
    done();
  });
  return registry;
}
