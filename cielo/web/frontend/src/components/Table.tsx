// One table of rows for the pages that list runs or items (the catalog, the history):
// columns declared once each, drawn the same way, scrolling sideways on a narrow screen.

import type { ReactNode } from "react";

export interface Column<T> {
  /** The column's heading (a visually hidden one for a column of buttons). */
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** A class for the cells (`exit completed`...). */
  className?: (row: T) => string;
}

export function Table<T>(props: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  className?: string;
}) {
  return (
    <div className="table-wrap">
      <table className={props.className}>
        <thead>
          <tr>
            {props.columns.map((c, i) => (
              <th key={i} scope="col">
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)} data-uid={props.rowKey(row)}>
              {props.columns.map((c, i) => (
                <td key={i} className={c.className?.(row)}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
