import { parseArgs } from "node:util";
import { verifyChain } from "../../shared/audit/chain.ts";
import { crossCheck } from "../../shared/audit/cross-check.ts";
import { AuditEntry } from "../../shared/audit/entry.ts";
import { type SegmentReport, verifySegment } from "../../shared/audit/segment.ts";
import { linkSegments } from "../../shared/audit/streams.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import type { TrustedCluster } from "../../shared/tickets/trust.ts";
import { EXIT, guarded, InputError, loadKeys, readJsonFile, UsageError } from "./io.ts";

export const usage = `usage: tessera audit <command>

  verify SEGMENT.json [--keys KEYS.json] [--json]
      SEGMENT: a sealed segment {segment, signature}, or an array of consecutive ones.
      Checks the hash chain, the sealed head and (with --keys) the provider's signature.
      Exit 0 valid, 1 problems found, 2 usage or I/O error.
  cross-check A.json B.json [C.json] [--keys KEYS.json] [--json]
      Each file: one provider's sealed segment(s) or a bare array of entries. Verifies each log,
      then compares them write by write (see docs/audit-log.md). Exit 1 on a broken log, a
      conflict or a ballot conflict; commits logged by one provider only are reported, not failed.
  fetch --endpoint URL --out DIR
      Downloads every provider's sealed segments (DIR/<provider>.json) and the cluster's keys
      (DIR/keys.json) from a running cluster, ready for verify and cross-check. A provider's log
      may hold several chains (one per running instance); segments are linked by their hashes.`;

export async function run(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  return guarded(usage, async () => {
    if (cmd === "verify") return verifyCmd(rest);
    if (cmd === "cross-check") return crossCheckCmd(rest);
    if (cmd === "fetch") return fetchCmd(rest);
    throw new UsageError(`unknown command "${cmd}"`);
  });
}

interface LoadedLog {
  provider: ProviderId | undefined;
  entries: AuditEntry[];
  ok: boolean;
  lines: string[];
}

/** Verifies one file (segments or bare entries) and returns its entries for cross-checking. */
async function loadLog(path: string, keys: TrustedCluster[] | undefined): Promise<LoadedLog> {
  const json = await readJsonFile(path);
  const isSegment = (x: unknown) => typeof x === "object" && x !== null && "segment" in x;
  const lines: string[] = [];
  if (isSegment(json) || (Array.isArray(json) && json.length > 0 && json.every(isSegment))) {
    const segments = (Array.isArray(json) ? json : [json]) as unknown[];
    const reports: SegmentReport[] = [];
    for (const s of segments) reports.push(await verifySegment(s, keys));
    let ok = reports.every((r) => r.ok);
    for (const [i, r] of reports.entries())
      lines.push(...describeSegment(r, segments.length > 1 ? i : undefined));
    const heads = reports.flatMap((r) => (r.head ? [r.head] : []));
    for (const g of linkSegments(heads).problems) {
      ok = false;
      lines.push(`  gap: ${g}`);
    }
    const entries = segments.flatMap((s) =>
      ((s as { segment?: { entries?: unknown[] } }).segment?.entries ?? []).flatMap((e) => {
        const p = AuditEntry.safeParse(e);
        return p.success ? [p.data] : [];
      }),
    );
    return { provider: heads[0]?.provider, entries, ok, lines };
  }
  const raw = Array.isArray(json) ? json : (json as { entries?: unknown }).entries;
  if (!Array.isArray(raw))
    throw new InputError(`${path}: not a sealed segment nor a list of entries`);
  const chain = await verifyChain(raw);
  const entries = raw.flatMap((e) => {
    const p = AuditEntry.safeParse(e);
    return p.success ? [p.data] : [];
  });
  lines.push(
    `${chain.ok ? "VALID" : "INVALID"} chain of ${raw.length} entries (unsealed: tail not covered)`,
  );
  for (const b of chain.breaks)
    lines.push(`  break at index ${b.index} (seq ${b.seq}): ${b.code}: ${b.detail}`);
  return { provider: entries[0]?.provider, entries, ok: chain.ok, lines };
}

function describeSegment(r: SegmentReport, index?: number): string[] {
  const name = index === undefined ? "segment" : `segment ${index}`;
  const range = r.head ? ` ${r.head.provider} seq ${r.head.fromSeq}..${r.head.toSeq}` : "";
  const lines = [
    `${r.ok ? "VALID" : "INVALID"} ${name}${range}, signature ${r.signature}${r.kid ? ` (${r.kid})` : ""}`,
  ];
  for (const b of r.chain?.breaks ?? []) {
    lines.push(`  break at index ${b.index} (seq ${b.seq}): ${b.code}: ${b.detail}`);
  }
  if (r.chain?.omitted) lines.push(`  ... ${r.chain.omitted} more breaks`);
  for (const p of r.problems) lines.push(`  ${p.code}: ${p.detail}`);
  if (r.signature === "unchecked") lines.push("  note: signature not checked (pass --keys)");
  return lines;
}

async function verifyCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { keys: { type: "string" }, json: { type: "boolean" } },
  });
  if (positionals.length !== 1) throw new UsageError("expected exactly one SEGMENT file");
  const keys = await loadKeys(values.keys);
  const json = await readJsonFile(positionals[0]!);
  if (values.json) {
    const list = Array.isArray(json) ? json : [json];
    const reports = [];
    for (const s of list) reports.push(await verifySegment(s, keys));
    const gaps = linkSegments(reports.flatMap((r) => (r.head ? [r.head] : []))).problems;
    console.log(
      JSON.stringify(
        { ok: reports.every((r) => r.ok) && gaps.length === 0, reports, gaps },
        null,
        2,
      ),
    );
    return reports.every((r) => r.ok) && gaps.length === 0 ? EXIT.ok : EXIT.invalid;
  }
  const log = await loadLog(positionals[0]!, keys);
  for (const l of log.lines) console.log(l);
  return log.ok ? EXIT.ok : EXIT.invalid;
}

async function crossCheckCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { keys: { type: "string" }, json: { type: "boolean" } },
  });
  if (positionals.length < 2 || positionals.length > 3) {
    throw new UsageError("expected two or three log files (one per provider)");
  }
  const keys = await loadKeys(values.keys);
  const logs: Partial<Record<ProviderId, AuditEntry[]>> = {};
  let ok = true;
  for (const path of positionals) {
    const log = await loadLog(path, keys);
    if (!values.json) for (const l of log.lines) console.log(`${path}: ${l}`);
    ok &&= log.ok;
    if (!log.provider) throw new InputError(`${path}: no entries`);
    if (logs[log.provider]) throw new InputError(`two files for provider ${log.provider}`);
    logs[log.provider] = log.entries;
  }
  const r = crossCheck(logs);
  const failed = !ok || r.conflicts > 0 || r.ballotConflicts.length > 0 || r.misfiled.length > 0;
  if (values.json) {
    console.log(JSON.stringify({ ok: !failed, logsValid: ok, ...r }, null, 2));
    return failed ? EXIT.invalid : EXIT.ok;
  }
  console.log(
    `${r.commits.length} commits: ${r.agreed} agreed, ${r.single} logged by one provider only, ${r.conflicts} in conflict`,
  );
  for (const c of r.commits) {
    if (c.status === "agreed") continue;
    console.log(`  ${c.status} ${c.commitId} (${c.kinds.join(", ")}) by ${c.providers.join(", ")}`);
    if (c.status === "conflict") {
      for (const v of c.variants) {
        console.log(
          `    ${v.providers.join(", ")}: key ${v.key} ballot ${v.ballot || "-"} value ${v.valueHash || "-"}`,
        );
      }
    }
  }
  for (const b of r.ballotConflicts) {
    console.log(
      `  BALLOT CONFLICT key ${b.key} ballot ${b.ballot}: ${b.variants.map((v) => `${v.valueHash || "-"} by ${v.providers.join("+")}`).join(" vs ")}`,
    );
  }
  for (const m of r.misfiled)
    console.log(`  misfiled: ${m.entryProvider} entry seq ${m.seq} in ${m.provider}'s log`);
  console.log(failed ? "FAILED" : "OK");
  return failed ? EXIT.invalid : EXIT.ok;
}

/** Segments per listing page asked for; the server caps it too. */
const FETCH_PAGE = 1000;

async function getJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" } });
  } catch (e) {
    throw new InputError(`cannot reach ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new InputError(`${url}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

async function fetchCmd(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { endpoint: { type: "string" }, out: { type: "string" } },
  });
  if (!values.endpoint || !values.out) throw new UsageError("fetch needs --endpoint and --out");
  const base = values.endpoint.replace(/\/+$/, "");
  const { mkdir, writeFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  await mkdir(values.out, { recursive: true });
  const keys = await getJson(`${base}/v1/audit/keys`);
  await writeFile(join(values.out, "keys.json"), `${JSON.stringify(keys, null, 2)}\n`);
  for (const p of PROVIDERS) {
    const segments: unknown[] = [];
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ limit: String(FETCH_PAGE), ...(cursor ? { cursor } : {}) });
      const page = (await getJson(`${base}/v1/audit/${p}/segments?${q}`)) as {
        segments: { id: string }[];
        nextCursor?: string;
      };
      for (const s of page.segments) {
        segments.push(await getJson(`${base}/v1/audit/segments/${encodeURIComponent(s.id)}`));
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    await writeFile(join(values.out, `${p}.json`), `${JSON.stringify(segments)}\n`);
    console.log(`${p}: ${segments.length} segment(s)`);
  }
  console.log(
    `next: npx tessera audit cross-check ${PROVIDERS.map((p) => join(values.out!, `${p}.json`)).join(" ")} --keys ${join(values.out, "keys.json")}`,
  );
  return EXIT.ok;
}
