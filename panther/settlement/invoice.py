"""The printable invoice (PDF) of a statement: the `billDocument` of a bill.

Rendered with fpdf2's built-in Helvetica and Courier, so no font files are needed; those fonts
cover Latin-1 only, and any other character is printed as a `\\uXXXX` escape (the statement's
canonical JSON, not the PDF, is the record). The PDF is reproducible: its creation date is the
statement's date and its file identifier derives from its content, so the same statement
renders to the same bytes with the same fpdf2 version.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from fpdf import FPDF
from fpdf.fonts import CoreFont

from panther.settlement.money import decimal_text, minor_text
from panther.settlement.statement import BillingStatement, LineKind, StatementLine

__all__ = ["invoice_number", "render_invoice"]

_KIND_LABEL = {
    LineKind.RECURRING: "recurring",
    LineKind.ONE_TIME: "one-time",
    LineKind.CREDIT: "credit",
}
_LINE_COLUMNS = ("#", "Product", "Kind", "Covers", "Days", "Months", "Rate", "Amount", "Tax")
_LINE_WIDTHS = (5, 22, 10, 22, 6, 9, 11, 11, 10)
_LINE_ALIGN = ("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")


def invoice_number(statement: BillingStatement) -> str:
    """A stable, human-readable number: relation, period and version."""
    return f"{statement.relation_id}-{statement.period.label}-v{statement.version}"


class _InvoicePdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(90)
        self.cell(0, 5, self.footer_text, align="L")
        self.cell(0, 5, f"page {self.page_no()}/{{nb}}", align="R")


def render_invoice(
    statement: BillingStatement,
    *,
    supplier_name: str | None = None,
    customer_name: str | None = None,
    agreed_on: date | None = None,
) -> bytes:
    """The invoice of `statement` as PDF bytes.

    `agreed_on` is the day the customer endorsed the statement; without it the document is
    marked as a draft. Party names default to the parties' ids.
    """
    exp = statement.terms.exponent
    cur = statement.currency
    totals = statement.totals

    def money(units: int) -> str:
        return f"{minor_text(units, exp)} {cur}"

    pdf = _InvoicePdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(datetime.combine(statement.statement_date, time(), tzinfo=UTC))
    pdf.set_title(_latin1(f"Invoice {invoice_number(statement)}"))
    pdf.set_author(_latin1(statement.supplier))
    pdf.set_subject(_latin1(f"Billing statement {statement.statement_hash}"))
    pdf.set_creator("Stone Panther")
    pdf.footer_text = _latin1(
        f"Invoice {invoice_number(statement)} - statement {statement.statement_hash[:16]}"
    )
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()

    pdf.set_font("Helvetica", style="B", size=16)
    title = "Invoice" if agreed_on is not None else "Invoice (DRAFT: not yet agreed)"
    pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    period = statement.period
    facts = [
        ("Invoice number", invoice_number(statement)),
        ("Supplier", _party(supplier_name, statement.supplier)),
        ("Customer", _party(customer_name, statement.customer)),
        ("Relation", statement.relation_id),
        ("Billing period", f"{period.label} ({period.start} to {period.last_day})"),
        ("Statement date", statement.statement_date.isoformat()),
        ("Currency", cur),
        ("Statement version", str(statement.version)),
        ("Agreed on", agreed_on.isoformat() if agreed_on is not None else "not yet agreed"),
        (
            "Terms",
            f"proration {statement.terms.proration.value}, "
            f"tax {decimal_text(statement.terms.tax_rate * 100)}% per line, "
            f"rounding {statement.terms.rounding.value} per line",
        ),
    ]
    for label, value in facts:
        pdf.set_font("Helvetica", style="B", size=9)
        pdf.cell(38, 5, label)
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _hash_row(pdf, "Statement hash (SHA-256)", statement.statement_hash)
    _hash_row(pdf, "Lines Merkle root", statement.lines_root.hex())
    if statement.supersedes:
        _hash_row(pdf, "Supersedes", statement.supersedes)

    _heading(pdf, "Lines")
    if statement.lines:
        _grid(
            pdf,
            _LINE_COLUMNS,
            _LINE_WIDTHS,
            _LINE_ALIGN,
            (_line_cells(line, exp) for line in statement.lines),
        )
    else:
        pdf.cell(0, 6, "No billable lines in this period.", new_x="LMARGIN", new_y="NEXT")

    if pdf.will_page_break(34):
        pdf.add_page()
    _heading(pdf, "Totals")
    for label, units in (
        ("Amount (tax excluded)", totals.amount),
        ("Tax", totals.tax),
        ("Total (tax included)", totals.total),
    ):
        pdf.set_font("Helvetica", style="B" if label.startswith("Total") else "", size=10)
        pdf.cell(60, 6, label)
        pdf.cell(40, 6, money(units), align="R", new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, "Held out (not billed, not in the totals)")
    if statement.held_out:
        _grid(
            pdf,
            ("Product", "Reason", "Amount at stake"),
            (40, 40, 20),
            ("LEFT", "LEFT", "RIGHT"),
            (
                (
                    _latin1(item.product_id),
                    _latin1(item.reason),
                    minor_text(item.amount_at_stake, exp),
                )
                for item in statement.held_out
            ),
        )
        pdf.set_font("Helvetica", size=9)
        pdf.cell(60, 6, "Total held out")
        pdf.cell(40, 6, money(totals.held_out), align="R", new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.cell(0, 6, "Nothing held out.", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(4)
    pdf.set_font("Helvetica", size=7)
    pdf.multi_cell(
        0,
        3.5,
        "Dates cover the days shown, both included. Amounts are rounded to minor units once "
        "per line; tax is computed per line and the totals are the sums of the lines. The "
        "statement hash identifies the endorsed statement (RFC 8785 canonical JSON, SHA-256).",
    )
    return bytes(pdf.output())


def _grid(
    pdf: FPDF,
    headings: tuple[str, ...],
    widths: tuple[int, ...],
    aligns: tuple[str, ...],
    rows: Iterable[tuple[str, ...]],
    line_height: float = 4.5,
) -> None:
    """A ruled table over the page width (`widths` are relative), its heading repeated on
    every page. Text is placed with `FPDF.text` and the rules are drawn once per page, not
    per cell: fpdf2's `table()` lays out every cell as a multi-cell (about 3 ms a row), which
    a statement of tens of thousands of lines cannot afford. A cell's lines are split at
    newlines; text too wide for its cell is cut with "...".
    """
    scale = pdf.epw / sum(widths)
    cols = [(w * scale, a == "RIGHT") for w, a in zip(widths, aligns, strict=True)]
    left = pdf.l_margin
    edges = [left]
    for width, _ in cols:
        edges.append(edges[-1] + width)
    top = pdf.get_y()

    def rule_columns(bottom: float) -> None:
        for x in edges:
            pdf.line(x, top, x, bottom)

    def draw(cells: tuple[str, ...], bold: bool) -> None:
        nonlocal top
        parts = [c.split("\n") for c in cells]
        height = line_height * max(len(p) for p in parts)
        if pdf.will_page_break(height):
            rule_columns(pdf.get_y())
            pdf.add_page()
            top = pdf.get_y()
            draw(headings, True)
        pdf.set_font("Helvetica", style="B" if bold else "", size=8)
        y = pdf.get_y()
        for (width, right), x, lines in zip(cols, edges[:-1], parts, strict=True):
            for n, text in enumerate(lines):
                text = _fit(pdf, text, width - 2)
                at = x + width - 1 - _width(pdf, text) if right else x + 1
                pdf.text(at, y + n * line_height + line_height * 0.72, text)
        pdf.line(left, y + height, edges[-1], y + height)
        if y == top:
            pdf.line(left, y, edges[-1], y)
        pdf.set_y(y + height)

    draw(headings, True)
    for row in rows:
        draw(row, False)
    rule_columns(pdf.get_y())
    pdf.set_font("Helvetica", size=9)


def _width(pdf: FPDF, text: str) -> float:
    """The width of `text` in the current core font, from its metrics (what
    `FPDF.get_string_width` computes for a core font, without its per-call overhead; the
    text is Latin-1 already, see `_latin1`)."""
    font = pdf.current_font
    assert isinstance(font, CoreFont), "invoices are set in core fonts only"
    widths: dict[str, int] = font.cw
    return sum(widths.get(c, 0) for c in text) * pdf.font_size / 1000


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if _width(pdf, text) <= width:
        return text
    while text and _width(pdf, text + "...") > width:
        text = text[:-1]
    return text + "..."


def _line_cells(line: StatementLine, exp: int) -> tuple[str, ...]:
    last = line.end - timedelta(days=1)
    covers = str(line.start) if last == line.start else f"{line.start} to {last}"
    return (
        str(line.number),
        _latin1(line.product_id or "(relation)")
        + (f"\n{_latin1(_reference(line))}" if line.reference else ""),
        _KIND_LABEL[line.kind],
        covers,
        "" if line.days is None else str(line.days),
        "" if line.months is None else _months(line),
        decimal_text(line.rate, exp),
        minor_text(line.amount, exp),
        minor_text(line.tax, exp),
    )


def _reference(line: StatementLine) -> str:
    return f"dispute {line.reference}" if line.kind is LineKind.CREDIT else str(line.reference)


def _months(line: StatementLine) -> str:
    assert line.months is not None
    if line.months.denominator == 1:
        return str(line.months.numerator)
    return str(line.months)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=11)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)


def _hash_row(pdf: FPDF, label: str, hex_digest: str) -> None:
    pdf.set_font("Helvetica", style="B", size=8)
    pdf.cell(42, 4.5, label)
    pdf.set_font("Courier", size=8)
    pdf.cell(0, 4.5, hex_digest, new_x="LMARGIN", new_y="NEXT")


def _party(name: str | None, party_id: str) -> str:
    return f"{name} ({party_id})" if name else party_id


def _latin1(text: str) -> str:
    """`text` in the core fonts' Latin-1, other characters as backslash escapes."""
    return text.encode("latin-1", "backslashreplace").decode("latin-1")
