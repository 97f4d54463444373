import type { SaleSummary } from "./summary.ts";

/**
 * A self-contained SVG of a benchmark run: throughput and commit latency over time for each system
 * under test, and the latency percentiles per order size. Hand-written (a few dozen elements), so
 * the plot needs no charting library and diffs readably.
 */

interface Series {
  readonly name: string;
  readonly color: string;
  readonly dash?: string;
  readonly points: readonly (readonly [number, number])[];
}

interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const FONT = 'font-family="system-ui, sans-serif"';

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (x: number) =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(2)).toString();

function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [0];
  // Up to the first tick at or above the data, so no point falls outside the axis.
  while ((out.at(-1) ?? 0) < max) out.push((out.at(-1) ?? 0) + step);
  return out;
}

function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min / 1.001 && v <= max * 1.001) out.push(v);
    }
  }
  return out;
}

function lineChart(
  box: Box,
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
  log = false,
): string {
  const pts = series.flatMap((s) => s.points).filter(([, y]) => !log || y > 0);
  const xMax = Math.max(1e-9, ...pts.map(([x]) => x));
  const yVals = pts.map(([, y]) => y);
  const yMaxRaw = Math.max(1e-9, ...yVals);
  const yMinRaw = log ? Math.max(0.1, Math.min(...yVals)) : 0;
  const yTicks = log ? logTicks(yMinRaw, yMaxRaw) : niceTicks(yMaxRaw);
  const yMax = log ? yMaxRaw * 1.1 : (yTicks.at(-1) ?? yMaxRaw);
  const yMin = log ? yMinRaw / 1.1 : 0;
  const xTicks = niceTicks(xMax);
  const xTop = xTicks.at(-1) ?? xMax;
  const L = box.x + 56;
  const R = box.x + box.w - 12;
  const T = box.y + 28;
  const B = box.y + box.h - 40;
  const sx = (x: number) => L + (x / xTop) * (R - L);
  const sy = (y: number) =>
    log
      ? B -
        ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) /
          (Math.log10(yMax) - Math.log10(yMin))) *
          (B - T)
      : B - ((y - yMin) / (yMax - yMin)) * (B - T);
  const parts: string[] = [];
  parts.push(
    `<text x="${box.x + box.w / 2}" y="${box.y + 16}" text-anchor="middle" font-size="14" font-weight="600" ${FONT}>${esc(title)}</text>`,
  );
  for (const t of yTicks) {
    parts.push(
      `<line x1="${L}" x2="${R}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`,
      `<text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${fmt(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${B}" y2="${B + 4}" stroke="#555"/>`,
      `<text x="${sx(t)}" y="${B + 16}" text-anchor="middle" font-size="11" ${FONT}>${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${L}" x2="${R}" y1="${B}" y2="${B}" stroke="#555"/>`,
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${B}" stroke="#555"/>`,
    `<text x="${(L + R) / 2}" y="${B + 32}" text-anchor="middle" font-size="12" ${FONT}>${esc(xLabel)}</text>`,
    `<text transform="translate(${box.x + 14} ${(T + B) / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const p = s.points.filter(([, y]) => !log || y > 0);
    if (p.length > 0) {
      const d = p.map(
        ([x, y], j) => `${j === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`,
      );
      parts.push(
        `<path d="${d.join(" ")}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
      );
    }
    const ly = T + 6 + i * 15;
    parts.push(
      `<line x1="${R - 150}" x2="${R - 130}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
      `<text x="${R - 126}" y="${ly + 4}" font-size="11" ${FONT}>${esc(s.name)}</text>`,
    );
  });
  return parts.join("\n");
}

function barChart(
  box: Box,
  title: string,
  groups: readonly { label: string; bars: readonly { name: string; value: number }[] }[],
  yLabel: string,
): string {
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0);
  const parts: string[] = [
    `<text x="${box.x + box.w / 2}" y="${box.y + 16}" text-anchor="middle" font-size="14" font-weight="600" ${FONT}>${esc(title)}</text>`,
  ];
  if (values.length === 0) return parts.join("\n");
  const yMin = Math.max(0.1, Math.min(...values)) / 1.5;
  const yMax = Math.max(...values) * 1.2;
  const L = box.x + 56;
  const R = box.x + box.w - 12;
  const T = box.y + 28;
  const B = box.y + box.h - 40;
  const sy = (y: number) =>
    B -
    ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) *
      (B - T);
  for (const t of logTicks(yMin, yMax)) {
    parts.push(
      `<line x1="${L}" x2="${R}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`,
      `<text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${L}" x2="${R}" y1="${B}" y2="${B}" stroke="#555"/>`,
    `<text transform="translate(${box.x + 14} ${(T + B) / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(yLabel)}</text>`,
  );
  const gw = (R - L) / groups.length;
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  groups.forEach((g, gi) => {
    const bw = (gw * 0.8) / Math.max(1, g.bars.length);
    g.bars.forEach((b, bi) => {
      if (!(b.value > 0)) return;
      const x = L + gi * gw + gw * 0.1 + bi * bw;
      const color = COLORS[names.indexOf(b.name) % COLORS.length];
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${sy(b.value).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(B - sy(b.value)).toFixed(1)}" fill="${color}"><title>${esc(`${g.label} ${b.name}: ${b.value} ms`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${L + gi * gw + gw / 2}" y="${B + 16}" text-anchor="middle" font-size="11" ${FONT}>${esc(g.label)}</text>`,
    );
  });
  names.forEach((n, i) => {
    const lx = L + 8 + i * 90;
    parts.push(
      `<rect x="${lx}" y="${T}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${lx + 14}" y="${T + 9}" font-size="11" ${FONT}>${esc(n)}</text>`,
    );
  });
  return parts.join("\n");
}

export function renderSvg(title: string, systems: readonly SaleSummary[]): string {
  const W = 960;
  const H = 900;
  const through: Series[] = systems.map((s, i) => ({
    name: s.system,
    color: COLORS[i % COLORS.length] as string,
    points: s.timeline.map((p) => [p.t, p.reservationsPerSec] as const),
  }));
  const lat: Series[] = systems.flatMap((s, i) => [
    {
      name: `${s.system} p50`,
      color: COLORS[i % COLORS.length] as string,
      points: s.timeline.filter((p) => p.holdP50Ms > 0).map((p) => [p.t, p.holdP50Ms] as const),
    },
    {
      name: `${s.system} p95`,
      color: COLORS[i % COLORS.length] as string,
      dash: "5 3",
      points: s.timeline.filter((p) => p.holdP95Ms > 0).map((p) => [p.t, p.holdP95Ms] as const),
    },
  ]);
  const groups = systems.flatMap((s) =>
    (["commit1", "commit6", "confirm1", "confirm6"] as const).map((k) => {
      const f = s.latency[k]?.ms;
      return {
        label: `${s.system.split(" ")[0]} ${k}`,
        bars: [
          { name: "p50", value: f?.p50 ?? 0 },
          { name: "p95", value: f?.p95 ?? 0 },
          { name: "p99", value: f?.p99 ?? 0 },
        ],
      };
    }),
  );
  const body = [
    lineChart(
      { x: 0, y: 30, w: W, h: 280 },
      "Reservations committed per second",
      "seconds since the sale opened",
      "holds / s",
      through,
    ),
    lineChart(
      { x: 0, y: 320, w: W, h: 280 },
      "Commit (hold) latency over time",
      "seconds since the sale opened",
      "ms (log)",
      lat,
      true,
    ),
    barChart(
      { x: 0, y: 610, w: W, h: 280 },
      "Latency percentiles by order size",
      groups,
      "ms (log)",
    ),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="16" font-weight="700" ${FONT}>${esc(title)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
