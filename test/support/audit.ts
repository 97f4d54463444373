import type { AuditEntry } from "../../shared/audit/entry.ts";
import type { SealedSegment } from "../../shared/audit/segment.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import type { MemoryCluster } from "./memory-cluster.ts";

/**
 * Seals every provider's pending audit entries (the scheduled call does it) and reads back each
 * provider's sealed segments through the public audit routes.
 */
export async function sealedAuditLogs(
  mc: MemoryCluster,
): Promise<Record<ProviderId, { segments: SealedSegment[]; entries: AuditEntry[] }>> {
  const out = {} as Record<ProviderId, { segments: SealedSegment[]; entries: AuditEntry[] }>;
  for (const p of PROVIDERS) {
    const flush = await mc.request(p, "/internal/anti-entropy?prefix=zzz-none/", {
      method: "POST",
      headers: { authorization: `Bearer ${mc.tc.envFor(p).CRON_SECRET}` },
    });
    if (flush.status !== 200) throw new Error(`${p}: the scheduled call answered ${flush.status}`);
    const list = (await (await mc.request(p, `/v1/audit/${p}/segments?limit=1000`)).json()) as {
      segments: { id: string }[];
    };
    const segments: SealedSegment[] = [];
    for (const ref of list.segments) {
      segments.push(
        (await (await mc.request(p, `/v1/audit/segments/${ref.id}`)).json()) as SealedSegment,
      );
    }
    out[p] = { segments, entries: segments.flatMap((s) => s.segment.entries) };
  }
  return out;
}
