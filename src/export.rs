//! Attendance lists and reports as files the secretariat opens in Excel:
//! CSV in UTF-8 with a byte-order mark (so that Excel shows the diacritics)
//! and XLSX with a summary sheet.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::error::{Error, Result};
use crate::record::{DelegationCount, ListRow};

pub const LIST_HEADER: [&str; 8] = ["code", "name", "delegation", "seat", "status", "time", "method", "kiosk"];

/// A CSV writer for `path` that Excel reads as UTF-8.
pub fn csv_for_excel(path: &Path) -> Result<csv::Writer<BufWriter<File>>> {
    let mut file = BufWriter::new(File::create(path).map_err(|e| Error::io(path, &e))?);
    file.write_all(b"\xEF\xBB\xBF").map_err(|e| Error::io(path, &e))?;
    Ok(csv::Writer::from_writer(file))
}

fn list_cells(r: &ListRow) -> [String; 8] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let status = if r.checked_in_at.is_some() { "present" } else { "absent" };
    [
        r.code.clone(),
        r.name.clone(),
        r.delegation.clone(),
        r.seat.clone(),
        status.into(),
        opt(&r.checked_in_at),
        opt(&r.method),
        opt(&r.kiosk),
    ]
}

pub fn write_csv(path: &Path, rows: &[ListRow]) -> Result<()> {
    let fail = |e: csv::Error| Error::Io(format!("{}: {e}", path.display()));
    let mut w = csv_for_excel(path)?;
    w.write_record(LIST_HEADER).map_err(fail)?;
    for r in rows {
        w.write_record(list_cells(r)).map_err(fail)?;
    }
    w.flush().map_err(|e| Error::io(path, &e))
}

/// The list on a first sheet, and a summary by delegation with the quorum
/// percentage on a second one.
pub fn write_xlsx(path: &Path, session: &str, rows: &[ListRow], counts: &[DelegationCount]) -> Result<()> {
    let fail = |e: XlsxError| Error::Io(format!("{}: {e}", path.display()));
    let bold = Format::new().set_bold();
    let pct = |p: usize, t: usize| if t == 0 { 0.0 } else { 100.0 * p as f64 / t as f64 };
    let mut book = Workbook::new();
    let list = book.add_worksheet().set_name("Điểm danh").map_err(fail)?;
    for (c, h) in LIST_HEADER.iter().enumerate() {
        list.write_string_with_format(0, c as u16, *h, &bold).map_err(fail)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in list_cells(r).iter().enumerate() {
            list.write_string(i as u32 + 1, c as u16, v).map_err(fail)?;
        }
    }
    list.set_column_width(1, 30).map_err(fail)?;
    list.set_column_width(2, 24).map_err(fail)?;
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
        summary.write_number(row, 3, (pct(c.present, c.total) * 10.0).round() / 10.0).map_err(fail)?;
    }
    let (present, total) = crate::record::overall(counts);
    let last = counts.len() as u32 + 3;
    summary.write_string_with_format(last, 0, "Tổng / quorum", &bold).map_err(fail)?;
    summary.write_number(last, 1, present as f64).map_err(fail)?;
    summary.write_number(last, 2, total as f64).map_err(fail)?;
    summary.write_number(last, 3, (pct(present, total) * 10.0).round() / 10.0).map_err(fail)?;
    summary.set_column_width(0, 30).map_err(fail)?;
    book.save(path).map_err(fail)
}
