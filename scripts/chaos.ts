/**
 * Fault injection during a flash sale on the real local cluster:
 * `npm run chaos -- [--quick] [--seats N] [--buyers M] [--phase-ms T] [--seed S] [--no-write]`.
 * Phases: healthy, kill redis-server, kill dynalite, kill workerd, partition one provider, slow
 * one provider, kill coordinators mid-request, all restored. Prints throughput per phase, writes
 * bench/results/chaos-<timestamp>.json (+ chaos-latest.json) and ends with one JSON line.
 * Exits 1 on a double sale, a lost order, a server error or stores that did not converge.
 */
import { parseArgs } from "node:util";
import { numberOption } from "./bench/args.ts";
import { RESULTS_DIR } from "./bench/results.ts";
import { CHAOS_DEFAULTS, CHAOS_QUICK, chaosTable, runChaos } from "./bench/run-chaos.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    seats: { type: "string" },
    buyers: { type: "string" },
    concurrency: { type: "string" },
    seed: { type: "string" },
    "phase-ms": { type: "string" },
    "arrivals-per-sec": { type: "string" },
    "abort-rate": { type: "string" },
    "latency-scale": { type: "string" },
    "no-write": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});

const num = numberOption;

const base = values.quick ? { ...CHAOS_DEFAULTS, ...CHAOS_QUICK } : CHAOS_DEFAULTS;
const report = await runChaos(
  {
    seats: Math.floor(num("seats", values.seats, base.seats, 1)),
    buyers: Math.floor(num("buyers", values.buyers, base.buyers, 1)),
    concurrency: Math.floor(num("concurrency", values.concurrency, base.concurrency, 1)),
    seed: Math.floor(num("seed", values.seed, base.seed, 0)),
    phaseMs: num("phase-ms", values["phase-ms"], base.phaseMs, 100),
    arrivalsPerSec: num("arrivals-per-sec", values["arrivals-per-sec"], base.arrivalsPerSec, 0.1),
    abortRate: num("abort-rate", values["abort-rate"], base.abortRate, 0),
    latencyScale: num("latency-scale", values["latency-scale"], base.latencyScale, 0),
    quick: values.quick,
    verbose: values.verbose,
    ...(values["no-write"] ? {} : { outDir: RESULTS_DIR }),
    log: (line) => console.error(`[chaos] ${line}`),
  },
  ["npm run chaos", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
);
console.log(chaosTable(report));
console.log(JSON.stringify(report.figures));
for (const fault of report.hostFaults) console.warn(`host fault: ${fault}`);
const f = report.figures;
process.exit(f.doubleSold === 0 && f.lostOrders === 0 && f.errors5xx === 0 && f.converged ? 0 : 1);
