import { handle } from "hono/aws-lambda";
import { buildApp } from "./app.ts";

/**
 * The Lambda entry (bundled by scripts/build-aws.ts). The app is built during the init phase so a
 * bad environment fails the cold start with a ConfigError naming every bad variable, and the SDK
 * clients and their connections are reused across invocations of this container.
 *
 * `hono/aws-lambda` is marked deprecated in favour of `@hono/aws-lambda`, which is not published
 * on the registry; the built-in adapter is the supported one until it is.
 */
const app = buildApp(process.env);

/** API Gateway HTTP API (payload format 2.0) catch-all route. */
export const handler = handle(app);

/** Path of the anti-entropy sweep the scheduled function triggers. */
const ANTI_ENTROPY_PATH = "/internal/anti-entropy";

/**
 * EventBridge schedule (serverless.yml, every 5 minutes): runs one anti-entropy sweep by calling
 * the app in-process with CRON_SECRET, so the sweep is the same route every provider's scheduler
 * calls. Without CRON_SECRET the route answers 404 and nothing runs. A 5xx throws so that the
 * failed run shows in the Lambda error metrics; the next tick simply sweeps again.
 */
export async function scheduled(): Promise<{ status: number }> {
  const res = await app.request(ANTI_ENTROPY_PATH, {
    method: "POST",
    headers: { authorization: `Bearer ${process.env.CRON_SECRET ?? ""}` },
  });
  if (res.status >= 500) throw new Error(`anti-entropy sweep failed: ${res.status}`);
  return { status: res.status };
}

export { buildApp };
