//! Attendance lists and reports as files the secretariat opens in Excel:
//! CSV in UTF-8 with a byte-order mark (so that Excel shows the diacritics),
//! for programs; XLSX set up for printing on A4, for people (the papers'
//! words from `papers.rs`). The audit head ties each file to the log.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::error::{Error, Result};
use crate::secretariat::papers::Papers;
use crate::store::ListRow;
use crate::store::time::Zone;
use crate::text::Lang;

/// The CSV header, stable for programs that read it: English by default.
const CSV_HEADER: [&str; 8] = ["code", "name", "delegation", "seat", "status", "time", "method", "kiosk"];

/// A CSV writer for `path` that Excel reads as UTF-8. Write text cells
/// through `cell`: names come from rosters, and Excel runs formulas.
pub fn csv_for_excel(path: &Path) -> Result<csv::Writer<BufWriter<File>>> {
    let mut file = BufWriter::new(File::create(path).map_err(|e| Error::io(path, e))?);
    file.write_all(b"\xEF\xBB\xBF").map_err(|e| Error::io(path, e))?;
    Ok(csv::Writer::from_writer(file))
}

/// A cell Excel would take for a formula (`=`, `+`, `-`, `@`, or a tab or
/// carriage return before them) gets a leading apostrophe, which Excel shows
/// as text (OWASP's advice against CSV injection).
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

/// Machine-friendly: the same values whatever the header's language
/// (`present`/`absent`, times with their offset, `face`/`search`/`manual`).
fn csv_cells(r: &ListRow, zone: &Zone) -> [String; 8] {
    let status = if r.checked_in_at.is_some() { "present" } else { "absent" };
    [
        r.code.clone(),
        r.name.clone(),
        r.delegation.clone(),
        r.seat.clone(),
        status.into(),
        r.checked_in_at.map(|t| zone.local(&t).to_string()).unwrap_or_default(),
        r.method.map(|m| m.as_str().to_string()).unwrap_or_default(),
        r.kiosk.clone().unwrap_or_default(),
    ]
}

/// `header`: None for the stable English names, or the papers' words.
pub fn write_csv(path: &Path, rows: &[ListRow], zone: &Zone, header: Option<Lang>) -> Result<()> {
    let fail = |e: csv::Error| Error::output(path.display().to_string(), e);
    let mut w = csv_for_excel(path)?;
    match header {
        None => w.write_record(CSV_HEADER),
        Some(lang) => w.write_record(&lang.words().columns[1..]),
    }
    .map_err(fail)?;
    for r in rows {
        w.write_record(csv_cells(r, zone).iter().map(|c| cell(c))).map_err(fail)?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// Which paper an XLSX file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// The list, the summary, the absent delegates.
    List,
    /// The credentials report: the summary with the verdict and signatures, the absent delegates.
    Report,
}

/// Print set-up shared by every sheet: A4, titles repeated, one page wide, page numbers.
fn print_setup(
    sheet: &mut Worksheet,
    p: &Papers,
    header_row: u32,
    landscape: bool,
) -> std::result::Result<(), XlsxError> {
    sheet.set_paper_size(9);
    if landscape {
        sheet.set_landscape();
    }
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(header_row, header_row)?;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    let footer = format!("&L{} · {}&R{} &P / &N", xl_text(p.event), xl_text(p.session), p.words().page);
    sheet.set_footer(footer);
    Ok(())
}

/// `&` starts a code in Excel's headers and footers.
fn xl_text(text: &str) -> String {
    text.replace('&', "&&")
}

/// The document header (when set), the place and date, title, session,
/// time printed, audit head and totals on the first rows; returns the next free row.
fn title_rows(sheet: &mut Worksheet, p: &Papers, title: &str, width: u16) -> std::result::Result<u32, XlsxError> {
    let big = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let bold = Format::new().set_bold();
    let centred = Format::new().set_align(FormatAlign::Center);
    let bold_centred = Format::new().set_bold().set_align(FormatAlign::Center);
    let (half, last) = (width / 2, width - 1);
    let mut row = 0;
    if !p.issuer.is_empty() {
        for (i, line) in p.issuer.iter().enumerate() {
            let format = if i + 1 == p.issuer.len() { &bold_centred } else { &centred };
            sheet.merge_range(i as u32, 0, i as u32, half - 1, line, format)?;
        }
        for (i, line) in p.words().motto.iter().enumerate() {
            sheet.merge_range(i as u32, half, i as u32, last, line, &bold_centred)?;
        }
        row = p.issuer.len().max(2) as u32;
        sheet.merge_range(row, half, row, last, &p.dated, &centred)?;
    } else {
        let right = Format::new().set_align(FormatAlign::Right);
        sheet.merge_range(row, 0, row, last, &p.dated, &right)?;
    }
    row += 2;
    sheet.merge_range(row, 0, row, last, p.event, &big)?;
    sheet.merge_range(row + 1, 0, row + 1, last, title, &big)?;
    row += 2;
    for line in p.title_block() {
        sheet.write_string(row, 0, line)?;
        row += 1;
    }
    sheet.write_string_with_format(row, 0, p.summary_line(), &bold)?;
    Ok(row + 2)
}

/// A table's column titles on `row`, bordered and bold.
fn header_row(sheet: &mut Worksheet, row: u32, titles: &[&str]) -> std::result::Result<(), XlsxError> {
    let head = Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color("#E8E8E8");
    for (c, t) in titles.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, *t, &head)?;
    }
    Ok(())
}

/// The list to sign: names and delegations wrap, and each row is high
/// enough for a signature in the last column.
fn list_sheet(book: &mut Workbook, p: &Papers) -> std::result::Result<(), XlsxError> {
    let w = p.words();
    let sheet = book.add_worksheet().set_name(w.sheet_list)?;
    let top = title_rows(sheet, p, w.list_title, 10)?;
    let titles: Vec<&str> = w.columns.iter().chain(std::iter::once(&w.sign)).copied().collect();
    header_row(sheet, top, &titles)?;
    let cell = Format::new().set_text_wrap().set_align(FormatAlign::VerticalCenter).set_border(FormatBorder::Thin);
    for (i, r) in p.rows.iter().enumerate() {
        let row = top + 1 + i as u32;
        for (c, v) in p.list_cells(i, r).iter().enumerate() {
            match c {
                0 => sheet.write_number_with_format(row, 0, (i + 1) as f64, &cell)?,
                _ => sheet.write_string_with_format(row, c as u16, v, &cell)?,
            };
        }
        sheet.write_blank(row, 9, &cell)?;
        sheet.set_row_height(row, 30)?;
    }
    for (c, width) in [5, 12, 26, 22, 7, 11, 11, 12, 10, 22].into_iter().enumerate() {
        sheet.set_column_width(c as u16, width)?;
    }
    print_setup(sheet, p, top, true)
}

fn summary_sheet(book: &mut Workbook, p: &Papers, paper: Paper) -> std::result::Result<(), XlsxError> {
    let w = p.words();
    let title = match paper {
        Paper::List => w.list_title,
        Paper::Report => w.report_title,
    };
    let sheet = book.add_worksheet().set_name(w.sheet_summary)?;
    let top = title_rows(sheet, p, title, 5)?;
    header_row(sheet, top, &[w.columns[3], w.summoned, w.present, w.absent, w.percent])?;
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0");
    let mut row = top + 1;
    let lines = p.by_delegation.iter().map(|l| (l, false)).chain(std::iter::once((&p.total, true)));
    for (line, total) in lines {
        let text = if total { &bold } else { &Format::new() };
        sheet.write_string_with_format(row, 0, &line.delegation, text)?;
        for (c, n) in [line.summoned, line.present, line.absent].into_iter().enumerate() {
            sheet.write_number_with_format(row, c as u16 + 1, n as f64, text)?;
        }
        sheet.write_number_with_format(row, 4, line.percent, &pct)?;
        row += 1;
    }
    sheet.write_string(row + 1, 0, p.rule())?;
    sheet.write_string_with_format(row + 2, 0, p.verdict(), &bold)?;
    if paper == Paper::Report {
        let mut r = row + 5;
        for s in p.signatures {
            sheet.write_string_with_format(r, 0, &s.role, &bold)?;
            sheet.write_string(r + 1, 0, w.sign_here)?;
            sheet.write_string_with_format(r + 5, 0, &s.name, &bold)?;
            r += 7;
        }
    }
    sheet.set_column_width(0, 34)?;
    for c in 1..=4 {
        sheet.set_column_width(c, 13)?;
    }
    print_setup(sheet, p, top, false)
}

fn absent_sheet(book: &mut Workbook, p: &Papers) -> std::result::Result<(), XlsxError> {
    let w = p.words();
    let sheet = book.add_worksheet().set_name(w.sheet_absent)?;
    let top = title_rows(sheet, p, w.absent_title, 5)?;
    header_row(sheet, top, &[w.columns[0], w.columns[3], w.columns[1], w.columns[2], w.columns[4]])?;
    let absent = p.absent();
    let rows = absent.iter().flat_map(|(_, list)| list.iter());
    for (i, r) in rows.enumerate() {
        let row = top + 1 + i as u32;
        sheet.write_number(row, 0, (i + 1) as f64)?;
        for (c, v) in [&r.delegation, &r.code, &r.name, &r.seat].into_iter().enumerate() {
            sheet.write_string(row, c as u16 + 1, v)?;
        }
    }
    for (c, width) in [6, 24, 13, 30, 8].into_iter().enumerate() {
        sheet.set_column_width(c as u16, width)?;
    }
    print_setup(sheet, p, top, false)
}

/// The list (with its summary and the absent delegates) or the report, as a workbook.
pub fn write_xlsx(path: &Path, p: &Papers, paper: Paper) -> Result<()> {
    let fail = |e: XlsxError| Error::output(path.display().to_string(), e);
    let mut book = Workbook::new();
    if paper == Paper::List {
        list_sheet(&mut book, p).map_err(fail)?;
    }
    summary_sheet(&mut book, p, paper).map_err(fail)?;
    absent_sheet(&mut book, p).map_err(fail)?;
    book.save(path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_excel_would_run_as_formulas_are_kept_as_text() {
        assert_eq!(cell("=HYPERLINK(\"http://x\",\"y\")"), "'=HYPERLINK(\"http://x\",\"y\")");
        for risky in ["+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(cell(risky).starts_with('\''), "{risky}");
        }
        assert_eq!(cell("Nguyễn Văn A"), "Nguyễn Văn A");
        assert_eq!(cell("A-12"), "A-12");
    }
}
