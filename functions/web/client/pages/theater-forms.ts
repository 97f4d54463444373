import { h } from "../dom.ts";
import { amountText, CURRENCIES, type Money, parseAmount } from "../money.ts";

/** Form pieces shared by the new-event and edit-event pages. */

/** ISO instant → the value a datetime-local input shows (the browser's time zone). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** datetime-local value → ISO instant, or undefined when empty or not a date. */
export function fromLocalInput(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function currencySelect(id: string, selected: string, disabled = false): HTMLSelectElement {
  return h(
    "select",
    { id, name: "currency", disabled },
    CURRENCIES().map((c) => h("option", { value: c, selected: c === selected }, c)),
  );
}

/** One labelled price input per category of the plan. */
export function priceInputs(
  categories: readonly { id: string; name: string }[],
  prices: ReadonlyMap<string, Money>,
  disabled = false,
): HTMLElement[] {
  return categories.map((c) => {
    const id = `price-${c.id}`;
    const p = prices.get(c.id);
    return h(
      "p",
      { class: "field" },
      h("label", { for: id }, `Price for ${c.name}`),
      h("input", {
        id,
        name: id,
        "data-category": c.id,
        inputmode: "decimal",
        value: p ? amountText(p) : "",
        placeholder: "e.g. 25.00 (empty: not on sale)",
        disabled,
      }),
    );
  });
}

/** Prices typed into priceInputs; throws naming the first bad one. */
export function readPrices(
  root: HTMLElement,
  currency: string,
): { categoryId: string; price: Money }[] {
  const out: { categoryId: string; price: Money }[] = [];
  for (const input of root.querySelectorAll<HTMLInputElement>("input[data-category]")) {
    const v = input.value.trim();
    if (!v) continue;
    const amount = parseAmount(v, currency);
    if (amount === undefined) {
      input.focus();
      throw new Error(`“${v}” is not a price in ${currency}`);
    }
    out.push({ categoryId: input.dataset.category!, price: { amount, currency } });
  }
  return out;
}
