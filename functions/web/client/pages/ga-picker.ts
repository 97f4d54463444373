import { h, replace } from "../dom.ts";
import { formatMoney, type Money } from "../money.ts";

/**
 * General-admission areas on the event page: no seat to click, just "how many places". The server
 * lists up to 20 free place ids per area; the picker takes the first N of them, and takes them
 * again after each refresh, so a place someone else got is replaced by another free one.
 */

export interface GaArea {
  id: string;
  name: string;
  category: string;
  capacity: number;
  available: number;
  availablePlaces: string[];
}

export interface GaPick {
  key: string;
  sectionId: string;
  seatId: string;
  text: string;
  categoryId: string;
  remove: () => void;
}

export function gaPicker(
  container: HTMLElement,
  categories: readonly { id: string; name: string }[],
  prices: ReadonlyMap<string, Money>,
  onSale: boolean,
  onChange: () => void,
) {
  let areas: GaArea[] = [];
  const wanted = new Map<string, number>();
  const catName = new Map(categories.map((c) => [c.id, c.name]));

  const render = () => {
    container.hidden = areas.length === 0;
    if (areas.length === 0) return;
    replace(
      container,
      h("h3", {}, "Standing and unnumbered places"),
      h(
        "ul",
        {},
        areas.map((a) => {
          const id = `ga-${a.id}`;
          const price = prices.get(a.category);
          return h(
            "li",
            { class: "field" },
            h(
              "label",
              { for: id },
              `${a.name} (${catName.get(a.category) ?? a.category}${price ? `, ${formatMoney(price)}` : ""}): ${a.available} of ${a.capacity} left`,
            ),
            h("input", {
              id,
              type: "number",
              min: 0,
              max: Math.min(a.availablePlaces.length, a.available),
              value: wanted.get(a.id) ?? 0,
              disabled: !onSale || a.available === 0 || !price,
              onchange: (ev: Event) => {
                const n = Math.max(0, Math.floor(Number((ev.target as HTMLInputElement).value)));
                wanted.set(a.id, Number.isFinite(n) ? n : 0);
                onChange();
              },
            }),
          );
        }),
      ),
    );
  };

  return {
    update(next: GaArea[]) {
      const changed = JSON.stringify(next) !== JSON.stringify(areas);
      areas = next;
      if (changed) render();
    },
    picked(): GaPick[] {
      return areas.flatMap((a) =>
        a.availablePlaces.slice(0, wanted.get(a.id) ?? 0).map((place) => ({
          key: `${a.id}/${place}`,
          sectionId: a.id,
          seatId: place,
          text: `${a.name}, place ${place.slice(a.id.length + 1)}`,
          categoryId: a.category,
          remove: () => {
            wanted.set(a.id, Math.max(0, (wanted.get(a.id) ?? 0) - 1));
            render();
            onChange();
          },
        })),
      );
    },
    clear() {
      wanted.clear();
      render();
    },
  };
}
