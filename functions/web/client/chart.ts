import { h, s } from "./dom.ts";

/**
 * Two small SVG charts for the sales dashboard: a stacked bar of the hall (sold / held / free) and
 * a line of seats sold over the time the page has been open. Each has a text alternative with the
 * same numbers; colours are paired with patterns/labels so they are not the only cue.
 */

export interface Counts {
  sold: number;
  held: number;
  available: number;
}

const BAR_W = 600;
const BAR_H = 36;

export function occupancyBar(c: Counts): SVGSVGElement {
  const total = Math.max(1, c.sold + c.held + c.available);
  const parts: [keyof Counts, string][] = [
    ["sold", "part-sold"],
    ["held", "part-held"],
    ["available", "part-free"],
  ];
  let x = 0;
  const svg = s("svg", {
    viewBox: `0 0 ${BAR_W} ${BAR_H + 24}`,
    class: "chart",
    role: "img",
    "aria-label": `${c.sold} sold, ${c.held} held, ${c.available} available of ${total} seats`,
  });
  for (const [k, cls] of parts) {
    const w = (c[k] / total) * BAR_W;
    svg.append(s("rect", { x, y: 0, width: w, height: BAR_H, class: cls }));
    if (w > 40) {
      svg.append(
        s(
          "text",
          { x: x + w / 2, y: BAR_H + 16, "text-anchor": "middle", class: "chart-label" },
          `${k} ${c[k]}`,
        ),
      );
    }
    x += w;
  }
  return svg;
}

const LINE_W = 600;
const LINE_H = 160;
const PAD = 30;

export function soldLine(
  points: readonly { t: number; sold: number }[],
): SVGSVGElement | HTMLElement {
  if (points.length < 2)
    return h("p", { class: "muted" }, "The sales line appears after a few updates.");
  const t0 = points[0]!.t;
  const t1 = Math.max(t0 + 1, points.at(-1)!.t);
  const max = Math.max(1, ...points.map((p) => p.sold));
  const px = (t: number) => PAD + ((t - t0) / (t1 - t0)) * (LINE_W - 2 * PAD);
  const py = (v: number) => LINE_H - PAD - (v / max) * (LINE_H - 2 * PAD);
  const d = points
    .map((p, i) => `${i === 0 ? "M" : "L"}${px(p.t).toFixed(1)} ${py(p.sold).toFixed(1)}`)
    .join("");
  const last = points.at(-1)!;
  return s(
    "svg",
    {
      viewBox: `0 0 ${LINE_W} ${LINE_H}`,
      class: "chart",
      role: "img",
      "aria-label": `Seats sold over the last ${Math.round((t1 - t0) / 1000)} seconds: from ${points[0]!.sold} to ${last.sold}`,
    },
    s("line", { x1: PAD, y1: LINE_H - PAD, x2: LINE_W - PAD, y2: LINE_H - PAD, class: "axis" }),
    s("line", { x1: PAD, y1: PAD, x2: PAD, y2: LINE_H - PAD, class: "axis" }),
    s("text", { x: PAD - 6, y: PAD + 4, "text-anchor": "end", class: "chart-label" }, String(max)),
    s("text", { x: PAD - 6, y: LINE_H - PAD + 4, "text-anchor": "end", class: "chart-label" }, "0"),
    s("path", { d, class: "sold-line", fill: "none" }),
  );
}
