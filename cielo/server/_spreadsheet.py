"""Spreadsheets of plans: one row per plan, read from CSV or xlsx (openpyxl).

The first row names the columns: ``plan`` (or ``plan_name``), then one column per
parameter of any plan in the sheet (a row leaves the cells of parameters it does not
use empty). A cell is a number, ``true``/``false``, JSON (``["det", "det2"]``,
``{"sample": "Fe"}``) or text (a device name). For a parameter that takes a list, text
with commas is split into its elements, each read as above (``det, det2``;
``motor, -1, 1`` for ``scan``'s ``args``). Nothing is evaluated.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ._store import Item, QueueError

__all__ = ["read_spreadsheet"]

_PLAN_COLUMNS = ("plan", "plan_name")


def read_spreadsheet(
    filename: str, data: bytes, plans: Mapping[str, Any]
) -> list[tuple[int, Item | QueueError]]:
    """``(row number, plan item or why the row is wrong)`` for every row with a plan;
    ``plans`` are the server's (their schemas say which parameters take lists)."""
    rows = _rows(filename, data)
    header = next(rows, None)
    if header is None:
        raise QueueError(f"{filename}: the spreadsheet is empty")
    names = [str(h).strip() if h is not None else "" for h in header]
    plan_column = next((n for n in _PLAN_COLUMNS if n in names), None)
    if plan_column is None:
        raise QueueError(
            f"{filename}: the first row must name the columns, one of them 'plan' "
            f"(the plan's name); got {names}"
        )
    out: list[tuple[int, Item | QueueError]] = []
    for number, row in enumerate(rows, start=2):
        cells = {n: c for n, c in zip(names, row, strict=False) if n and _filled(c)}
        if not cells:
            continue
        try:
            out.append((number, _item(cells, plan_column, plans)))
        except QueueError as exc:
            out.append((number, exc))
    if not out:
        raise QueueError(f"{filename}: no row names a plan")
    return out


def _rows(filename: str, data: bytes) -> Iterator[list[Any]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            import openpyxl
        except ImportError:
            raise QueueError("reading xlsx needs openpyxl: pip install 'cielo[server]'") from None
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, ... from a broken file
            raise QueueError(f"{filename}: not a readable xlsx workbook ({exc})") from None
        sheet = book.worksheets[0]
        return (list(row) for row in sheet.iter_rows(values_only=True))
    if filename.lower().endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise QueueError(f"{filename}: a CSV file must be UTF-8 ({exc})") from None
        return iter(list(csv.reader(io.StringIO(text))))
    raise QueueError(f"{filename}: upload a .csv or .xlsx file")


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _item(cells: dict[str, Any], plan_column: str, plans: Mapping[str, Any]) -> Item:
    name = str(cells.pop(plan_column)).strip()
    props = plans.get(name, {}).get("schema", {}).get("properties", {})
    values = {key: _value(cell, _takes_list(props.get(key, {}))) for key, cell in cells.items()}
    var_positional = next(
        (p for p, s in props.items() if s.get("x-cielo-kind") == "var_positional"), None
    )
    args: list[Any] = []
    if var_positional in values:  # positional parameters before it go by position
        for pname in props:
            if pname == var_positional:
                break
            if pname not in values:
                raise QueueError(f"plan {name!r}: column {pname!r} is empty")
            args.append(values.pop(pname))
        extra = values.pop(var_positional)
        args.extend(extra if isinstance(extra, list) else [extra])
    return {"item_type": "plan", "name": name, "args": args, "kwargs": values}


def _takes_list(prop: Mapping[str, Any]) -> bool:
    kinds = [prop, *prop.get("anyOf", ())]
    return prop.get("x-cielo-kind") == "var_positional" or any(
        isinstance(k, Mapping) and k.get("type") == "array" for k in kinds
    )


def _value(cell: Any, takes_list: bool) -> Any:
    if not isinstance(cell, str):
        return int(cell) if isinstance(cell, float) and cell.is_integer() else cell
    text = cell.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    if takes_list and "," in text:
        return [_value(part, False) for part in text.split(",")]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return [text] if takes_list and _is_name(text) else text


def _is_name(text: str) -> bool:
    return text.replace(".", "").replace("_", "").isalnum()
