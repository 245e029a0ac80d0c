import type { ReactNode } from "react";
import { TableWrap } from "./TableWrap";

/** A table of rows under plain column headings, in a region that scrolls sideways (TableWrap). Its name is
 * its caption (hidden unless `showCaption`); `actions` adds a last column, unnamed on screen, for each
 * row's buttons. `children` are the rows. */
export function DataTable({
  label,
  columns,
  actions = false,
  className,
  showCaption = false,
  children,
}: {
  label: string;
  columns: string[];
  actions?: boolean;
  className?: string;
  showCaption?: boolean;
  children: ReactNode;
}) {
  return (
    <TableWrap label={label}>
      <table className={className}>
        <caption className={showCaption ? undefined : "visually-hidden"}>{label}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
            {actions ? (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableWrap>
  );
}
