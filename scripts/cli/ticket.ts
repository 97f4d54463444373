import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import {
  COMPACT_PREFIX,
  DOOR_SIGNATURES,
  toCompact,
  verifyCompact,
} from "../../shared/tickets/compact.ts";
import { exampleClaims } from "../../shared/tickets/example.ts";
import {
  EXPORT_FORMAT,
  type ExportVerification,
  verifyExport,
} from "../../shared/tickets/export.ts";
import { ticketQrPng, ticketQrSvg, ticketQrVersion } from "../../shared/tickets/qr.ts";
import type { RevocationClaims } from "../../shared/tickets/revocation.ts";
import type { FeedCheck } from "../../shared/tickets/revocation-feed.ts";
import {
  assembleTicket,
  signTicketClaims,
  type Ticket,
  TicketSchema,
} from "../../shared/tickets/sign.ts";
import {
  type ClusterKeys,
  keysCoveredBy,
  normalizeTrust,
  type TrustedCluster,
} from "../../shared/tickets/trust.ts";
import { type TicketVerification, verifyTicketWith } from "../../shared/tickets/verify.ts";
import {
  EXIT,
  guarded,
  InputError,
  loadTrustedKeys,
  TRUSTED_KEYS_ENV,
  type TrustedKeys,
  UsageError,
} from "./io.ts";
import { loadRevocations } from "./revocations.ts";

export const usage = `usage: tessera ticket <command>

  verify FILE [--keys KEYS.json] [--revocations FEED.json|URL ...] [--json]
      FILE: {ticket, keys} (keys embedded), a bare General JSON ticket, a buyer export
      (tessera.tickets), or a compact T1. ticket. KEYS: the public keys you trust (ClusterKeys, a
      ClusterConfig, or {trusted: [...]} to also accept former clusters); without --keys, the file
      named by $TESSERA_TRUSTED_KEYS, else $XDG_CONFIG_HOME/tessera/trusted-keys.json (default
      ~/.config/tessera/trusted-keys.json) when it exists. Keys embedded in FILE never make it
      authentic: with no trusted keys they only show that FILE is self-consistent.
      FEED: an event's revocation feed, saved or fetched from a provider
      (https://.../v1/events/EVENT/revocations); a ticket it revokes is REVOKED. A buyer export
      also carries the revocations of its own refunded tickets.
      Exit 0 valid (authentic), 1 invalid or revoked (reasons printed), 2 usage or I/O error,
      3 self-consistent but NOT AUTHENTICATED (checked against the file's own keys only).
  compact FILE [--all]       print the door form (two signatures; --all keeps every signature)
  qr FILE --out OUT.png|OUT.svg [--all]
                             render the door form as a QR code
  example [--out FILE]       sign an example ticket with a throwaway cluster ({ticket, keys})`;

type Loaded =
  | { kind: "export"; file: unknown }
  | { kind: "ticket"; ticket: unknown; embedded?: unknown }
  | { kind: "compact"; text: string };

async function loadTicketFile(path: string): Promise<Loaded> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (text.trimStart().startsWith(`${COMPACT_PREFIX}.`))
    return { kind: "compact", text: text.trim() };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InputError(`${path} is neither JSON nor a compact ticket`);
  }
  const o = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  if (o.format === EXPORT_FORMAT) return { kind: "export", file: json };
  if ("ticket" in o) return { kind: "ticket", ticket: o.ticket, embedded: o.keys };
  return { kind: "ticket", ticket: json };
}

export async function run(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  return guarded(usage, async () => {
    switch (cmd) {
      case "verify":
        return verifyCmd(rest);
      case "compact":
        return compactCmd(rest);
      case "qr":
        return qrCmd(rest);
      case "example":
        return exampleCmd(rest);
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  });
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positionals[0]!;
}

async function verifyCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      keys: { type: "string" },
      json: { type: "boolean" },
      revocations: { type: "string", multiple: true },
    },
  });
  const path = onePositional(positionals, "FILE");
  const loaded = await loadTicketFile(path);
  const own = await loadTrustedKeys(values.keys);
  const feeds = values.revocations ?? [];
  if (feeds.length > 0 && !own) {
    throw new UsageError(
      `--revocations needs trusted keys: pass --keys KEYS.json (or set ${TRUSTED_KEYS_ENV})`,
    );
  }
  const feed = own && feeds.length > 0 ? await loadRevocations(feeds, own.trusted) : undefined;
  if (feed && !values.json) printFeedNotes(feed);

  if (loaded.kind === "export") {
    const r = await verifyExport(loaded.file, {
      ...(own ? { trusted: own.trusted } : {}),
      ...(feed ? { revoked: feed.revoked } : {}),
    });
    if (values.json) console.log(JSON.stringify(withFrom(r, own), null, 2));
    else printExport(r, own);
    return exitCode(r.selfConsistent, r.authenticated);
  }

  let trusted = own?.trusted;
  let keysProblem: string | undefined;
  if (loaded.kind === "ticket" && loaded.embedded !== undefined) {
    let embedded: TrustedCluster[];
    try {
      embedded = normalizeTrust(loaded.embedded);
    } catch (e) {
      throw new InputError(`${path}: embedded keys: ${(e as Error).message}`);
    }
    if (own) {
      if (!embedded.every((c) => keysCoveredBy(c, own.trusted))) {
        keysProblem = `the keys embedded in the file are not among the trusted keys (${own.from})`;
      }
    } else trusted = embedded;
  }
  if (!trusted) {
    throw new UsageError(
      `this file carries no keys: pass --keys KEYS.json (or set ${TRUSTED_KEYS_ENV})`,
    );
  }

  const r: TicketVerification =
    loaded.kind === "compact"
      ? await verifyCompact(loaded.text, trusted)
      : await verifyTicketWith(loaded.ticket, trusted);
  const revoked = r.valid ? feed?.revoked.get(r.claims.tid) : undefined;
  const selfConsistent = r.valid && keysProblem === undefined && revoked === undefined;
  const authenticated = own !== undefined;
  if (values.json) {
    const result = {
      ...r,
      valid: selfConsistent && authenticated,
      selfConsistent,
      authenticated,
      keysSource: authenticated ? "trusted" : "self-supplied",
      ...(keysProblem ? { keysProblem } : {}),
      ...(revoked ? { revoked } : {}),
    };
    console.log(JSON.stringify(withFrom(result, own), null, 2));
  } else {
    printTicket(r, "", authenticated, revoked);
    if (keysProblem) console.log(`INVALID: ${keysProblem}`);
    if (r.valid && !authenticated) console.log(SELF_SUPPLIED_NOTE);
  }
  return exitCode(selfConsistent, authenticated);
}

function printFeedNotes(f: FeedCheck): void {
  for (const x of f.rejected) {
    console.log(`note: revocation ${x.index} ignored: ${x.reasons.map((r) => r.code).join(", ")}`);
  }
  if (f.gaps > 0)
    console.log(
      `note: the feed leaves out ${f.gaps} revocation(s); fetch it from another provider too`,
    );
}

function revokedLine(indent: string, r: RevocationClaims): string {
  return `${indent}  REVOKED (${r.rsn}) ${new Date(r.rat * 1000).toISOString()}, entry ${r.seq} of the event's feed`;
}

const SELF_SUPPLIED_NOTE =
  "NOT AUTHENTICATED: checked only against keys embedded in the file (self-supplied), which anyone " +
  `can make up; pass --keys with the cluster's published keys, or set ${TRUSTED_KEYS_ENV}, to check authenticity`;

/** 0 authentic, 1 invalid, 3 consistent only with the file's own keys (see EXIT). */
function exitCode(selfConsistent: boolean, authenticated: boolean): number {
  if (!selfConsistent) return EXIT.invalid;
  return authenticated ? EXIT.ok : EXIT.unauthenticated;
}

function withFrom<T extends object>(r: T, own: TrustedKeys | undefined): T {
  return own ? { ...r, trustedKeysFrom: own.from } : r;
}

function printTicket(
  r: TicketVerification,
  indent: string,
  authenticated: boolean,
  revoked?: RevocationClaims,
): void {
  if (r.valid) {
    const c = r.claims;
    const where = [c.seat.section, c.seat.row].filter(Boolean).join(", ");
    const verdict = revoked
      ? "REVOKED"
      : authenticated
        ? "VALID"
        : "NOT AUTHENTICATED (self-consistent)";
    console.log(`${indent}${verdict} ticket ${c.tid} (cluster ${r.clusterId})`);
    if (revoked) console.log(revokedLine(indent, revoked));
    if (c.evn !== undefined) {
      const when = c.evs === undefined ? "" : `, ${new Date(c.evs * 1000).toISOString()}`;
      console.log(`${indent}  for ${c.evn}${when}${c.ven ? `, at ${c.ven}` : ""}`);
    }
    console.log(
      `${indent}  event ${c.evt}, seat ${c.seat.label}${where ? ` (${where})` : ""} [${c.seat.id}], category ${c.seat.category}`,
    );
    console.log(`${indent}  holder ${c.hld}, order ${c.ord}, theater ${c.thr}`);
    console.log(
      `${indent}  price ${formatPrice(c.prc.amount, c.prc.currency)} (${c.prc.amount} minor units), issued ${new Date(c.iat * 1000).toISOString()}`,
    );
    console.log(`${indent}  signed by ${r.providers.join(", ")}`);
    for (const w of r.warnings)
      console.log(`${indent}  note: signature ${w.signature}: ${w.code}: ${w.detail}`);
  } else {
    console.log(`${indent}INVALID ticket${r.claims ? ` ${r.claims.tid}` : ""}`);
    for (const x of r.reasons) {
      const at = x.signature === undefined ? "" : ` (signature ${x.signature})`;
      console.log(`${indent}  ${x.code}${at}: ${x.detail}`);
    }
  }
}

/** Minor units per currency differ (EUR 2, JPY 0, KWD 3); Intl knows them. */
function formatPrice(amount: number, currency: string): string {
  try {
    const digits =
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
        .maximumFractionDigits ?? 2;
    return `${(amount / 10 ** digits).toFixed(digits)} ${currency}`;
  } catch {
    return `${amount} ${currency} minor units`;
  }
}

function printExport(r: ExportVerification, own: TrustedKeys | undefined): void {
  const verdict = r.valid ? "VALID" : r.selfConsistent ? "NOT AUTHENTICATED" : "INVALID";
  const keys = own ? `trusted (${own.from})` : r.keysSource;
  console.log(`${verdict} ticket export: ${r.tickets.length} ticket(s), keys ${keys}`);
  for (const t of r.tickets) printTicket(t.result, "  ", r.authenticated, t.revoked);
  const gone = r.tickets.filter((t) => t.revoked !== undefined).length;
  if (gone > 0)
    console.log(`  ${gone} of ${r.tickets.length} ticket(s) REVOKED: they admit no one`);
  for (const s of r.exportSignatures) {
    console.log(
      `  export signature by ${s.provider ?? "?"} (${s.kid ?? "?"}): ${s.valid ? "valid" : "INVALID"}`,
    );
  }
  for (const x of r.reasons) console.log(`  ${x.code}: ${x.detail}`);
  if (r.selfConsistent && !r.authenticated) console.log(SELF_SUPPLIED_NOTE);
}

async function ticketFromFile(path: string): Promise<Ticket> {
  const loaded = await loadTicketFile(path);
  if (loaded.kind !== "ticket")
    throw new InputError(`${path}: expected a ticket or {ticket, keys}`);
  const t = TicketSchema.safeParse(loaded.ticket);
  if (!t.success) throw new InputError(`${path}: not a General JSON ticket`);
  return t.data;
}

async function compactCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { all: { type: "boolean" } },
  });
  const t = await ticketFromFile(onePositional(positionals, "FILE"));
  console.log(toCompact(t, values.all ? {} : { maxSignatures: DOOR_SIGNATURES }));
  return EXIT.ok;
}

async function qrCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: "string" }, all: { type: "boolean" } },
  });
  const out = values.out;
  if (!out || !/\.(png|svg)$/i.test(out))
    throw new UsageError("--out must name a .png or .svg file");
  const t = await ticketFromFile(onePositional(positionals, "FILE"));
  const compact = toCompact(t, values.all ? {} : { maxSignatures: DOOR_SIGNATURES });
  const data = /\.svg$/i.test(out) ? await ticketQrSvg(compact) : await ticketQrPng(compact);
  try {
    await writeFile(out, data);
  } catch (e) {
    throw new InputError(`cannot write ${out}: ${(e as Error).message}`);
  }
  console.log(`wrote ${out}: ${compact.length} characters, QR version ${ticketQrVersion(compact)}`);
  return EXIT.ok;
}

/** Signers of the example: exactly a quorum, so removing any one signature invalidates it. */
const EXAMPLE_SIGNERS: readonly ProviderId[] = ["cloudflare", "aws"];

async function exampleCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: "string" } },
  });
  if (positionals.length > 0) throw new UsageError("example takes no positional arguments");
  const clusterId = "tessera-example";
  const keys = Object.fromEntries(
    await Promise.all(PROVIDERS.map(async (p) => [p, await generateEd25519Jwk(p)] as const)),
  );
  const claims = exampleClaims(clusterId);
  const sigs = await Promise.all(EXAMPLE_SIGNERS.map((p) => signTicketClaims(claims, keys[p]!, p)));
  const clusterKeys: ClusterKeys = {
    clusterId,
    providers: Object.fromEntries(
      PROVIDERS.map((p) => [p, [publicOf(keys[p]!)]]),
    ) as ClusterKeys["providers"],
  };
  const doc = {
    about:
      "Example Tessera ticket signed by a throwaway cluster (private keys discarded). Its embedded keys make it self-consistent only (verify exits 3); save `keys` apart and pass it with --keys to see exit 0.",
    ticket: assembleTicket(claims, sigs),
    keys: clusterKeys,
  };
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (values.out) {
    await writeFile(values.out, text);
    console.log(`wrote ${values.out}`);
  } else process.stdout.write(text);
  return EXIT.ok;
}
