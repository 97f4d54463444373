import { parseArgs } from "node:util";
import { EXIT, guarded, InputError, UsageError } from "./io.ts";

export const usage = `usage: tessera store <command> URL

  URL is the deployment whose OWN store is meant (https://...); the cron secret comes from
  $CRON_SECRET. See docs/quorum.md, "Acceptor amnesia", and docs/deploy.md for the procedure.

  status URL
      Prints the store's membership: member, or rejoining (epoch, when it was marked).
  mark-restored URL
      After a restore or a failover to an asynchronous copy, BEFORE the store serves again: the
      store stops voting (it still stores, to catch up) until a rejoin walk has re-chosen every key.
  rejoin URL [--until-done] [--max-steps N]
      Runs one step of the rejoin walk now (the scheduled anti-entropy call also runs one while
      the store is rejoining); with --until-done, steps until the store is a member again.
      Exit 0 member, 1 still rejoining, 2 usage or connection error.`;

/** Steps of `rejoin --until-done` before giving up (a voting store down keeps a walk unclean). */
const STEPS_MAX_DEFAULT = 100;
/** Pause between steps that did not finish the walk. */
const STEP_PAUSE_MS = 2_000;

export async function run(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  return guarded(usage, async () => {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { "until-done": { type: "boolean" }, "max-steps": { type: "string" } },
    });
    if (positionals.length !== 1) throw new UsageError("expected exactly one URL");
    const base = positionals[0]!.replace(/\/+$/, "");
    if (!/^https?:\/\//.test(base)) throw new UsageError(`not a URL: ${base}`);
    const secret = process.env.CRON_SECRET;
    if (!secret) throw new InputError("set CRON_SECRET to the deployment's cron secret");
    const call = (path: string, method: string) => request(base, path, method, secret);
    if (cmd === "status") {
      console.log(JSON.stringify(await call("/internal/membership", "GET"), null, 2));
      return EXIT.ok;
    }
    if (cmd === "mark-restored") {
      console.log(JSON.stringify(await call("/internal/membership/restored", "POST"), null, 2));
      return EXIT.ok;
    }
    if (cmd === "rejoin") {
      const max = values["until-done"] ? Number(values["max-steps"] ?? STEPS_MAX_DEFAULT) : 1;
      if (!Number.isSafeInteger(max) || max < 1) throw new UsageError("--max-steps: a count");
      for (let i = 0; i < max; i++) {
        const step = (await call("/internal/membership/rejoin", "POST")) as StepReply;
        const s = step.slice;
        console.log(
          `${step.membership?.state ?? "?"} (epoch ${step.membership?.epoch ?? "?"})` +
            (step.waiting ? ": waiting for messages sent before the mark" : "") +
            (s ? `: ${s.scanned} keys, ${s.moved} moved, ${s.failed} failed` : "") +
            (step.rejoined ? ": back to member" : ""),
        );
        if (step.membership?.state === "member") return EXIT.ok;
        if (i + 1 < max) await new Promise((r) => setTimeout(r, STEP_PAUSE_MS));
      }
      return EXIT.invalid;
    }
    throw new UsageError(`unknown command "${cmd}"`);
  });
}

interface StepReply {
  membership?: { state: string; epoch: number };
  waiting?: boolean;
  rejoined?: boolean;
  slice?: { scanned: number; moved: number; failed: number };
}

async function request(base: string, path: string, method: string, secret: string) {
  let r: Response;
  try {
    r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${secret}` } });
  } catch (e) {
    throw new InputError(`cannot reach ${base}: ${(e as Error).message}`);
  }
  const text = await r.text();
  if (!r.ok) throw new InputError(`${method} ${path}: HTTP ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}
