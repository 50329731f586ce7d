/**
 * Issue 14: the slowest hostile request. The fuzz suite's generator (seeded, the same
 * cases as test/hostile/fuzz.test.ts) drives the dev exchange in process, one request at
 * a time (no queueing in the figure), and the slowest answer is reported against the
 * median of a legitimate JWT-SVID request measured in the same run: a hostile request
 * should cost no more than a few legitimate ones (no super-linear work before
 * authentication). No budget yet: the figure is information.
 */
import fc from "fast-check";
import { jwtBinding } from "../lib/proof/binding.js";
import { baseSpec, caseArb, jsonRequest, materialise } from "../test/hostile/fuzz-cases.js";
import { makeFuzzCsrs } from "../test/hostile/fuzz-csrs.js";
import { signProof, startFuzzTarget } from "../test/hostile/fuzz-target.js";
import { type BenchResult, percentile, round } from "./harness.js";

const SEED = 20261129;
const CASES = 3_000;
const LEGIT = 300;

export async function run(): Promise<BenchResult[]> {
  const target = await startFuzzTarget("eu-west-1");
  try {
    const ctx = { target, csrs: makeFuzzCsrs(), region: "eu-west-1" };
    const legit: number[] = [];
    for (let i = 0; i < LEGIT; i++) {
      const audience = ["bench"];
      const request = jsonRequest("jwt", {
        audience,
        proof: signProof(baseSpec(ctx, "dev", jwtBinding({ audience }))),
      });
      legit.push((await target.send(request, "invoke")).ms);
    }
    legit.sort((a, b) => a - b);
    const hostile: number[] = [];
    let max = 0;
    let slowest = "";
    for (const c of fc.sample(caseArb(Object.keys(ctx.csrs)), { seed: SEED, numRuns: CASES })) {
      const plan = materialise(c, ctx);
      for (const p of plan.requests) {
        const ms = (await target.send(p.request, "invoke")).ms;
        if (ms > max) [max, slowest] = [ms, plan.label];
        hostile.push(ms);
      }
    }
    hostile.sort((a, b) => a - b);
    const reference = { name: "legit JWT-SVID request p50, in process", value: percentile(legit, 50) };
    return [
      { name: reference.name, value: round(reference.value), unit: "ms" },
      {
        name: `hostile request max (${hostile.length} fuzz requests, seed ${SEED}; slowest: ${slowest})`,
        value: round(max),
        unit: "ms",
        reference: reference.name,
        ratio: round(max / reference.value),
      },
      {
        name: "hostile request p99",
        value: round(percentile(hostile, 99)),
        unit: "ms",
        reference: reference.name,
        ratio: round(percentile(hostile, 99) / reference.value),
      },
    ];
  } finally {
    await target.stop();
  }
}
