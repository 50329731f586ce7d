/**
 * ExchangeMetrics on Powertools Metrics (CloudWatch EMF): SvidsIssued by kind,
 * Denied by reason, <Dependency>LatencyMs. Flushed once per request.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ExchangeMetrics } from "../../lib/exchange/exchange-metrics.js";

export function powertoolsMetrics(
  namespace = "SvidBridge",
  serviceName = "svid-bridge-exchange",
): ExchangeMetrics {
  const metrics = new Metrics({ namespace, serviceName });
  const single = (
    name: string,
    dimension: [string, string],
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
  ) => {
    const m = metrics.singleMetric();
    m.addDimension(dimension[0], dimension[1]);
    m.addMetric(name, unit, value);
  };
  return {
    issued: (kind, count) => single("SvidsIssued", ["kind", kind], MetricUnit.Count, count),
    denied: (code) => single("Denied", ["reason", code], MetricUnit.Count, 1),
    dependencyLatency: (dependency, ms) =>
      metrics.addMetric(
        `${dependency[0]!.toUpperCase()}${dependency.slice(1)}LatencyMs`,
        MetricUnit.Milliseconds,
        ms,
      ),
    flush: () => metrics.publishStoredMetrics(),
  };
}
