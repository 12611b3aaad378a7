/**
 * A tiny element builder. Text always goes in as text nodes (never HTML), so nothing the gateway
 * returns — a transcript, a log line, a key name — can become markup or script.
 */
type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else if (name === "class") element.className = String(value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

export function table(headers: string[], rows: Child[][], options: { empty?: string; id?: string } = {}): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, options.empty ?? "Nothing yet.");
  return h(
    "table",
    { class: "grid", id: options.id },
    h("thead", {}, h("tr", {}, ...headers.map((header) => h("th", {}, header)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell) => h("td", {}, cell))))),
  );
}

export const formatTime = (ms: number | null | undefined) =>
  ms ? new Date(ms).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }) : "—";
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "—";
  // Single requests cost fractions of a cent: keep two significant digits rather than show $0.0000.
  if (usd > 0 && usd < 0.0001) return `$${usd.toPrecision(2)}`;
  return `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
}
export const formatCount = (value: number | null | undefined) => (value === null || value === undefined ? "—" : value.toLocaleString());
