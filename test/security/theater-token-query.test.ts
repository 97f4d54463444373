import { beforeAll, describe, expect, it } from "vitest";
import { createTheaterToken } from "../../shared/auth/theater-token.ts";
import { licensedTheater, type TheaterCreds } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

/**
 * Threat: a theatre token seen in a log (it is bound to one method and path, so it looks harmless)
 * is replayed within its lifetime with a query string the theatre never asked for: another page
 * of orders, another filter. The token must bind the query too.
 */
let mc: MemoryCluster;
let t: TheaterCreds;
beforeAll(async () => {
  mc = await startMemoryCluster();
  t = await licensedTheater(mc, "th-query");
});

const token = (path: string) =>
  createTheaterToken({
    license: t.license,
    theaterKey: t.key,
    method: "GET",
    path,
    now: mc.clock.ms,
  });
const get = async (path: string, tok: string) =>
  (await mc.request("aws", path, { headers: { authorization: `Tessera-Theater ${tok}` } })).status;

describe("a theatre token binds the query string", () => {
  it("a token for a path without a query is refused with one added", async () => {
    expect(await get("/v1/manage/events", await token("/v1/manage/events"))).toBe(200);
    expect(await get("/v1/manage/events?limit=1", await token("/v1/manage/events"))).toBe(401);
  });

  it("a token for one query is refused with another, and works with its own", async () => {
    const tok = await token("/v1/manage/events?limit=2");
    expect(await get("/v1/manage/events?limit=3", tok)).toBe(401);
    expect(await get("/v1/manage/events?limit=2", await token("/v1/manage/events?limit=2"))).toBe(
      200,
    );
  });
});
