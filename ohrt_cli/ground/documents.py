"""Documents for a prosecution file — a witness statement, an exhibit list, an exhibit's label — written as an
editable DOCX (python-docx) and a PDF (fpdf2, pure Python: no office suite needed), from one small model.

A document is a list of blocks: headings, paragraphs, tables and signature lines. A paragraph or cell is made
of pieces: text from a record, or a `Blank` where the record is missing. A blank is printed as a line to
fill in with what is missing named beside it (`________ [not recorded: …]`), never as a guess, so that a
reader sees at once what the records did not hold.

No SOP paragraph of its own: stages/evidence (SOP 6.3, 9.1) says what the documents hold.
"""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path
from typing import Iterable, Union

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts", "/usr/local/share/fonts")
BLANK_LINE = "_" * 16


@dataclasses.dataclass(frozen=True)
class Blank:
    """A visible blank: what is missing (`what`), printed beside a line to fill in."""

    what: str
    prefix: str = "not recorded"

    def text(self) -> str:
        return f"{BLANK_LINE} [{self.prefix}: {self.what}]"


Piece = Union[str, Blank, None]


def value(text, what: str) -> Piece:
    """`text` when the record holds it, else a Blank naming `what`."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return Blank(what)
    return str(text)


@dataclasses.dataclass
class Heading:
    text: str
    level: int = 1


@dataclasses.dataclass
class Para:
    pieces: list[Piece]
    bold: bool = False
    mono: bool = False
    small: bool = False

    def text(self) -> str:
        return join(self.pieces)


@dataclasses.dataclass
class Table:
    headers: list[str]
    rows: list[list[Piece]]
    widths: list[float] | None = None  # shares of the page's width


@dataclasses.dataclass
class Signature:
    """A line to sign, with its label (`Signature`, `Date`)."""

    labels: list[str]


@dataclasses.dataclass
class Image:
    png: bytes
    width_mm: float


Block = Union[Heading, Para, Table, Signature, Image]


@dataclasses.dataclass
class Document:
    title: str
    blocks: list[Block]
    marking: str = ""
    footer: str = ""
    page: str = "A4"  # or (width_mm, height_mm) for a label

    def text(self) -> str:
        """The document's words as plain text (what the guard reads; what pdftotext should find)."""
        lines = [self.marking, self.title]
        for block in self.blocks:
            if isinstance(block, Heading):
                lines.append(block.text)
            elif isinstance(block, Para):
                lines.append(block.text())
            elif isinstance(block, Table):
                lines.append(" | ".join(block.headers))
                lines += [" | ".join(join([cell]) for cell in row) for row in block.rows]
            elif isinstance(block, Signature):
                lines += [f"{label}: {BLANK_LINE}" for label in block.labels]
        lines.append(self.footer)
        return "\n".join(line for line in lines if line)


def join(pieces: Iterable[Piece]) -> str:
    return "".join(p.text() if isinstance(p, Blank) else (p or "") for p in pieces)


# ------------------------------------------------------------------------------------------------- DOCX

def write_docx(document: Document, path: Path) -> None:
    """The document as an editable Word file (the officer signs the printed copy)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    out = docx.Document()
    section = out.sections[0]
    if document.page == "A4":
        section.page_width, section.page_height = Mm(210), Mm(297)
        margin = Mm(20)
    else:
        section.page_width, section.page_height = Mm(document.page[0]), Mm(document.page[1])
        margin = Mm(5)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = margin
    style = out.styles["Normal"]
    style.font.name, style.font.size = "Arial", Pt(11)
    out.core_properties.title = document.title
    if document.marking:
        for part in (section.header, section.footer):
            para = part.paragraphs[0]
            para.text = document.marking
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    out.add_heading(document.title, level=0)
    for block in document.blocks:
        if isinstance(block, Heading):
            out.add_heading(block.text, level=min(block.level, 3))
        elif isinstance(block, Para):
            para = out.add_paragraph()
            for piece in block.pieces:
                if piece is None or piece == "":
                    continue
                run = para.add_run(piece.text() if isinstance(piece, Blank) else piece)
                run.bold = block.bold
                if isinstance(piece, Blank):
                    run.italic = True
                if block.mono:
                    run.font.name = "Courier New"
                if block.small or block.mono:
                    run.font.size = Pt(9)
        elif isinstance(block, Table):
            table = out.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            for cell, heading in zip(table.rows[0].cells, block.headers):
                cell.text = ""
                cell.paragraphs[0].add_run(heading).bold = True
            for row in block.rows:
                cells = table.add_row().cells
                for cell, piece in zip(cells, row):
                    cell.text = join([piece])
                    for run in cell.paragraphs[0].runs:
                        run.font.size = Pt(9)
        elif isinstance(block, Signature):
            for label in block.labels:
                out.add_paragraph(f"{label}: {BLANK_LINE * 2}")
        elif isinstance(block, Image):
            out.add_picture(io.BytesIO(block.png), width=Mm(block.width_mm))
    if document.footer:
        out.add_paragraph(document.footer).runs[0].font.size = Pt(8)
    out.save(str(path))


# -------------------------------------------------------------------------------------------------- PDF

def _font_files() -> tuple[str, str, str] | None:
    """DejaVu Sans, its bold and DejaVu Sans Mono (fonts-dejavu-core), for text in any script; None if absent."""
    names = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        if not os.path.isdir(root):
            continue
        for folder, _, files in os.walk(root):
            for name in names:
                if name in files and name not in found:
                    found[name] = os.path.join(folder, name)
        if len(found) == len(names):
            return tuple(found[n] for n in names)  # type: ignore[return-value]
    return None


class _Pdf:
    def __init__(self, document: Document):
        from fpdf import FPDF

        if document.page == "A4":
            self.pdf = FPDF(format="A4")
            self.pdf.set_margins(20, 18, 20)
            self.pdf.set_auto_page_break(True, margin=20)
        else:
            self.pdf = FPDF(format=document.page)
            self.pdf.set_margins(5, 5, 5)
            self.pdf.set_auto_page_break(True, margin=5)
        self.document = document
        fonts = _font_files()
        if fonts:
            self.pdf.add_font("Body", "", fonts[0])
            self.pdf.add_font("Body", "B", fonts[1])
            self.pdf.add_font("Mono", "", fonts[2])
            self.body, self.mono, self.unicode = "Body", "Mono", True
        else:  # the core fonts know Latin-1 only: other characters print as '?'
            self.body, self.mono, self.unicode = "Helvetica", "Courier", False
        self.pdf.set_title(document.title)
        self.pdf.set_creator("ohrt")
        marking = document.marking
        body = self.body
        pdf = self.pdf
        clean = self.clean

        def header():
            if marking:
                pdf.set_font(body, "B", 9)
                pdf.cell(0, 5, clean(marking), align="C", new_x="LMARGIN", new_y="NEXT")

        def footer():
            pdf.set_y(-12 if document.page == "A4" else -6)
            pdf.set_font(body, "", 8)
            text = f"{marking}    page {pdf.page_no()} of {{nb}}" if document.page == "A4" else marking
            pdf.cell(0, 5, clean(text), align="C")

        pdf.header = header  # type: ignore[method-assign]
        pdf.footer = footer  # type: ignore[method-assign]
        pdf.alias_nb_pages()

    def clean(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def write(self, path: Path) -> None:
        pdf, document = self.pdf, self.document
        pdf.add_page()
        label = document.page != "A4"
        pdf.set_font(self.body, "B", 11 if label else 15)
        pdf.multi_cell(0, 5 if label else 8, self.clean(document.title), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1 if label else 2)
        for block in document.blocks:
            if isinstance(block, Heading):
                pdf.ln(2)
                pdf.set_font(self.body, "B", 12 if block.level <= 1 else 11)
                pdf.multi_cell(0, 6, self.clean(block.text), align="L", new_x="LMARGIN", new_y="NEXT")
            elif isinstance(block, Para):
                size = 8 if (block.small or block.mono or label) else 10.5
                pdf.set_font(self.mono if block.mono else self.body, "B" if block.bold else "", size)
                pdf.multi_cell(0, size * 0.5, self.clean(block.text()), align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1 if label else 1.5)
            elif isinstance(block, Table):
                self._table(block)
            elif isinstance(block, Signature):
                pdf.ln(3)
                pdf.set_font(self.body, "", 10.5)
                for text in block.labels:
                    pdf.cell(0, 8, self.clean(f"{text}: {BLANK_LINE * 2}"), new_x="LMARGIN", new_y="NEXT")
            elif isinstance(block, Image):
                pdf.image(io.BytesIO(block.png), w=block.width_mm)
        if document.footer:
            pdf.set_font(self.body, "", 7.5)
            pdf.multi_cell(0, 4, self.clean(document.footer), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(path))

    def _table(self, block: Table) -> None:
        pdf = self.pdf
        pdf.ln(1)
        pdf.set_font(self.body, "", 8.5)
        widths = block.widths or [1 / len(block.headers)] * len(block.headers)
        total = pdf.epw
        from fpdf.fonts import FontFace

        with pdf.table(col_widths=[w * total for w in widths], text_align="LEFT", line_height=4.5,
                       headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230))) as table:
            heading = table.row()
            for text in block.headers:
                heading.cell(self.clean(text))
            for row in block.rows:
                cells = table.row()
                for piece in row:
                    cells.cell(self.clean(join([piece])))
        pdf.ln(2)


def write_pdf(document: Document, path: Path) -> None:
    _Pdf(document).write(path)


def qr_png(data: str, scale: int = 6) -> bytes:
    """A QR code of `data` (error correction M) as PNG bytes, for a label."""
    import segno

    out = io.BytesIO()
    segno.make_qr(data, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


LABEL_PAGE = (102, 76)  # a 4 × 3 inch label, in millimetres


def write_label_pdf(path: Path, *, title: str, lines: list[str], code: str, qr_data: str, marking: str) -> None:
    """An exhibit's label on one page of LABEL_PAGE: the title large, the lines beside a QR code of `qr_data`,
    and `code` (a hash) in small monospace across the foot, split in two lines of equal length."""
    from fpdf import FPDF

    pdf = FPDF(format=LABEL_PAGE)
    pdf.set_auto_page_break(False)
    pdf.set_margins(4, 4, 4)
    fonts = _font_files()
    if fonts:
        pdf.add_font("Body", "", fonts[0])
        pdf.add_font("Body", "B", fonts[1])
        pdf.add_font("Mono", "", fonts[2])
        body, mono = "Body", "Mono"
    else:
        body, mono = "Helvetica", "Courier"

    def clean(text: str) -> str:
        return text if fonts else text.encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(title)
    pdf.set_creator("ohrt")
    pdf.add_page()
    width, height = LABEL_PAGE
    qr_size = 34
    pdf.set_font(body, "B", 7)
    pdf.cell(0, 3.5, clean(marking), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(body, "B", 14)
    pdf.cell(0, 7, clean(title), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(qr_data, scale=4)), x=width - 4 - qr_size, y=top, w=qr_size, h=qr_size)
    pdf.set_font(body, "", 7.5)
    for line in lines:
        pdf.multi_cell(width - 12 - qr_size, 3.6, clean(line), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(mono, "", 6.5)
    half = (len(code) + 1) // 2
    pdf.set_xy(4, max(pdf.get_y() + 1, top + qr_size + 1))
    for part in (code[:half], code[half:]):
        pdf.cell(0, 3, clean(part), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(4, height - 7)
    pdf.set_font(body, "B", 7)
    pdf.cell(0, 3.5, clean(marking), align="C")
    pdf.output(str(path))
