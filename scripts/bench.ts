/**
 * Flash-sale benchmark on the real local cluster with simulated WAN latency:
 * `npm run bench -- [--quick] [--seats N] [--buyers M] [--concurrency C] [--seed S]
 * [--http-seats N] [--http-buyers M] [--max-sale-s S] [--no-http] [--latency-scale X] [--no-write] [--verbose]`. Prints a table, writes bench/results/<timestamp>.json (+
 * latest.json and an SVG plot) and ends with one JSON line of the headline figures. Exits 1 when
 * a seat was sold twice or a confirmed order lost.
 */
import { parseArgs } from "node:util";
import { numberOption } from "./bench/args.ts";
import {
  BENCH_DEFAULTS,
  BENCH_QUICK,
  benchTable,
  RESULTS_DIR,
  runBench,
} from "./bench/run-bench.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    seats: { type: "string" },
    buyers: { type: "string" },
    concurrency: { type: "string" },
    seed: { type: "string" },
    "think-ms": { type: "string" },
    "latency-scale": { type: "string" },
    "http-seats": { type: "string" },
    "http-buyers": { type: "string" },
    "max-sale-s": { type: "string" },
    "no-http": { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});

const num = numberOption;

const quick = values.quick;
const base = quick ? { ...BENCH_DEFAULTS, ...BENCH_QUICK } : BENCH_DEFAULTS;
const opts = {
  seats: Math.floor(num("seats", values.seats, base.seats, 1)),
  buyers: Math.floor(num("buyers", values.buyers, base.buyers, 1)),
  concurrency: Math.floor(num("concurrency", values.concurrency, base.concurrency, 1)),
  seed: Math.floor(num("seed", values.seed, base.seed, 0)),
  thinkMs: num("think-ms", values["think-ms"], base.thinkMs, 0),
  latencyScale: num("latency-scale", values["latency-scale"], base.latencyScale, 0),
  maxSaleMs: num("max-sale-s", values["max-sale-s"], base.maxSaleMs / 1000, 1) * 1000,
  httpSeats: Math.floor(num("http-seats", values["http-seats"], base.httpSeats, 1)),
  httpBuyers: Math.floor(num("http-buyers", values["http-buyers"], base.httpBuyers, 1)),
  maxHttpSaleMs: base.maxHttpSaleMs,
  http: !values["no-http"],
  quick,
  verbose: values.verbose,
  ...(values["no-write"] ? {} : { outDir: RESULTS_DIR }),
  log: (line: string) => console.error(`[bench] ${line}`),
};

const command = `npm run bench --${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
const report = await runBench(opts, command.replace(/ --$/, ""));
console.log(benchTable(report));
console.log(JSON.stringify(report.figures));
process.exit(report.figures.doubleSold === 0 && report.figures.lostOrders === 0 ? 0 : 1);
