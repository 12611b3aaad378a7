export interface Column {
  header: string;
  values: string[];
  align?: "left" | "right";
  /** Columns with a drop order are removed (lowest first) until the table fits. */
  dropOrder?: number;
  /** The last column may be cut to fit instead of dropped, down to this width. */
  minWidth?: number;
}

const cut = (text: string, width: number) => (text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`);

/** A plain-text table that fits `width` columns by dropping optional columns, then cutting the last. */
export function renderTable(columns: Column[], width: number, indent = ""): string[] {
  const gap = 2;
  const widthOf = (column: Column) => Math.max(column.header.length, ...column.values.map((value) => value.length));
  const total = (list: Column[]) => indent.length + list.reduce((sum, column) => sum + widthOf(column), 0) + gap * (list.length - 1);
  let shown = [...columns];
  const droppable = columns.filter((column) => column.dropOrder !== undefined).sort((a, b) => (a.dropOrder ?? 0) - (b.dropOrder ?? 0));
  for (const column of droppable) {
    if (total(shown) <= width) break;
    const last = shown[shown.length - 1];
    // Prefer cutting the last column when it can still be useful at its minimum width.
    if (column === last && column.minWidth !== undefined && total(shown) - widthOf(column) + column.minWidth <= width) break;
    shown = shown.filter((item) => item !== column);
  }
  const widths = shown.map(widthOf);
  const overflow = total(shown) - width;
  const lastIndex = shown.length - 1;
  if (overflow > 0 && shown[lastIndex]?.minWidth !== undefined)
    widths[lastIndex] = Math.max(shown[lastIndex].minWidth ?? 0, (widths[lastIndex] ?? 0) - overflow);
  const row = (cells: string[]) =>
    `${indent}${cells
      .map((cell, index) => {
        const w = widths[index] ?? 0;
        const text = cut(cell, w);
        return shown[index]?.align === "right" ? text.padStart(w) : index === lastIndex ? text : text.padEnd(w);
      })
      .join(" ".repeat(gap))}`.trimEnd();
  const rows = [row(shown.map((column) => column.header))];
  const count = columns[0]?.values.length ?? 0;
  for (let i = 0; i < count; i++) rows.push(row(shown.map((column) => column.values[i] ?? "")));
  return rows;
}
