//! Attendance lists and reports as files the secretariat opens in Excel:
//! CSV in UTF-8 with a byte-order mark (so that Excel shows the diacritics)
//! and XLSX with a summary sheet. Times are on the congress's clocks, with
//! their offset; the audit head ties the file to the log.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::error::{Error, Result};
use crate::store::time::Zone;
use crate::store::{AuditHead, DelegationCount, ListRow, percent};

pub const LIST_HEADER: [&str; 8] = ["code", "name", "delegation", "seat", "status", "time", "method", "kiosk"];

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

fn list_cells(r: &ListRow, zone: &Zone) -> [String; 8] {
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

pub fn write_csv(path: &Path, rows: &[ListRow], zone: &Zone) -> Result<()> {
    let fail = |e: csv::Error| Error::output(path.display().to_string(), e);
    let mut w = csv_for_excel(path)?;
    w.write_record(LIST_HEADER).map_err(fail)?;
    for r in rows {
        w.write_record(list_cells(r, zone).iter().map(|c| cell(c))).map_err(fail)?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// The list on a first sheet, and a summary by delegation with the quorum
/// percentage and the audit head on a second one.
pub fn write_xlsx(
    path: &Path,
    session: &str,
    rows: &[ListRow],
    counts: &[DelegationCount],
    zone: &Zone,
    head: &AuditHead,
) -> Result<()> {
    let fail = |e: XlsxError| Error::output(path.display().to_string(), e);
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    let list = book.add_worksheet().set_name("Điểm danh").map_err(fail)?;
    for (c, h) in LIST_HEADER.iter().enumerate() {
        list.write_string_with_format(0, c as u16, *h, &bold).map_err(fail)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in list_cells(r, zone).iter().enumerate() {
            list.write_string(i as u32 + 1, c as u16, v).map_err(fail)?;
        }
    }
    list.set_column_width(1, 30).map_err(fail)?;
    list.set_column_width(2, 24).map_err(fail)?;
    list.set_column_width(5, 30).map_err(fail)?;
    let summary = book.add_worksheet().set_name("Tổng hợp").map_err(fail)?;
    summary.write_string_with_format(0, 0, format!("Phiên / Session: {session}"), &bold).map_err(fail)?;
    for (c, h) in ["delegation", "present", "total", "percent"].iter().enumerate() {
        summary.write_string_with_format(2, c as u16, *h, &bold).map_err(fail)?;
    }
    for (i, c) in counts.iter().enumerate() {
        let row = i as u32 + 3;
        summary.write_string(row, 0, &c.delegation).map_err(fail)?;
        summary.write_number(row, 1, c.present as f64).map_err(fail)?;
        summary.write_number(row, 2, c.total as f64).map_err(fail)?;
        summary.write_number(row, 3, (percent(c.present, c.total) * 10.0).round() / 10.0).map_err(fail)?;
    }
    let (present, total) = crate::store::overall(counts);
    let last = counts.len() as u32 + 3;
    summary.write_string_with_format(last, 0, "Tổng / quorum", &bold).map_err(fail)?;
    summary.write_number(last, 1, present as f64).map_err(fail)?;
    summary.write_number(last, 2, total as f64).map_err(fail)?;
    summary.write_number(last, 3, (percent(present, total) * 10.0).round() / 10.0).map_err(fail)?;
    summary.write_string(last + 2, 0, "Nhật ký kiểm toán / audit head").map_err(fail)?;
    summary.write_string(last + 2, 1, head.to_string()).map_err(fail)?;
    summary.set_column_width(0, 30).map_err(fail)?;
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
