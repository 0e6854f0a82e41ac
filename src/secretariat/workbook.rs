//! Roster workbooks (XLSX, ODS) read as a stream under fixed bounds, so that
//! a crafted file (a cell at XFD1048576, a zip of a gigabyte of spaces, a row
//! repeated a million times) is refused instead of allocated.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};

/// All members of a workbook, unzipped: a roster of 100,000 delegates is
/// under 30 MB.
const UNZIPPED_LIMIT: u64 = 64 << 20;
/// A workbook has a few dozen members.
const MEMBER_LIMIT: usize = 1_000;
/// Columns a roster may fill: five are needed, a few dozen kept.
pub const COLUMN_LIMIT: usize = 100;
/// Rows a roster may hold: the largest congress planned has tens of thousands.
pub const ROW_LIMIT: usize = 200_000;
/// Cells a sheet may spread over (empty ones before a filled one count),
/// and the text they may hold in all once shared strings and repeated cells
/// are written out: together under 150 MB of memory.
const CELL_LIMIT: usize = 2_000_000;
const TEXT_LIMIT: usize = 64 << 20;
/// One cell holds at most what Excel lets a cell hold, in characters: an
/// ODS cell of `<text:s text:c="1000"/>` over and over would otherwise
/// grow fifty times the file's size before it is looked at.
const CELL_TEXT_LIMIT: usize = 32_767;

fn beyond_columns(row: usize, col: usize) -> String {
    format!(
        "cell {} is filled, beyond the {COLUMN_LIMIT} columns a roster may use; clear it and save again",
        cell_name(row, col)
    )
}

fn cell_too_long(row: usize, col: usize) -> String {
    format!(
        "cell {} holds more than {CELL_TEXT_LIMIT} characters, more than a spreadsheet cell may: this is not a roster",
        cell_name(row, col)
    )
}

/// The non-empty rows of a sheet, each with its line (1-based row number).
#[derive(Debug, Default)]
pub struct Sheet {
    pub rows: Vec<(usize, Vec<String>)>,
    cells: usize,
    text: usize,
}

impl Sheet {
    /// One cell at 0-based `row` and `col`; rows arrive in order.
    fn put(&mut self, row: usize, col: usize, value: String) -> Result<(), String> {
        if value.trim().is_empty() {
            return Ok(());
        }
        if col >= COLUMN_LIMIT {
            return Err(beyond_columns(row, col));
        }
        if value.chars().count() > CELL_TEXT_LIMIT {
            return Err(cell_too_long(row, col));
        }
        self.text += value.len();
        let width = self.rows.last().filter(|(line, _)| *line == row + 1).map_or(0, |(_, cells)| cells.len());
        self.cells += (col + 1).saturating_sub(width);
        if self.cells > CELL_LIMIT {
            return Err(format!("the sheet spreads over more than {CELL_LIMIT} cells: this is not a roster"));
        }
        if self.text > TEXT_LIMIT {
            return Err(format!("the sheet holds more than {} MB of text: this is not a roster", TEXT_LIMIT >> 20));
        }
        let line = row + 1;
        match self.rows.last_mut() {
            Some((last, cells)) if *last == line => {
                if cells.len() <= col {
                    cells.resize(col + 1, String::new());
                }
                cells[col] = value;
            }
            _ => {
                if self.rows.len() >= ROW_LIMIT {
                    return Err(format!("more than {ROW_LIMIT} filled rows: split the roster"));
                }
                let mut cells = vec![String::new(); col + 1];
                cells[col] = value;
                self.rows.push((line, cells));
            }
        }
        Ok(())
    }
}

/// "XFD1048576" for messages, as the spreadsheet names the cell.
fn cell_name(row: usize, col: usize) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

/// The first sheet of an XLSX (or XLSM) or ODS workbook.
pub fn read(path: &Path, ods: bool) -> Result<Sheet, String> {
    check_zip(path)?;
    if ods { read_ods(path) } else { read_xlsx(path) }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open the workbook: {e}"))?;
    zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| format!("not a readable workbook ({e}); open it in Excel or LibreOffice and save it again"))
}

/// Unzips every member once, counting, before any reader allocates by what
/// the file declares.
fn check_zip(path: &Path) -> Result<(), String> {
    let mut zip = open_zip(path)?;
    if zip.len() > MEMBER_LIMIT {
        return Err(format!("the workbook holds {} parts, more than any roster: this is not a roster", zip.len()));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let member = zip.by_index(i).map_err(|e| format!("the workbook is damaged ({e}); save it again"))?;
        let mut bounded = member.take(UNZIPPED_LIMIT - total + 1);
        total += std::io::copy(&mut bounded, &mut std::io::sink())
            .map_err(|e| format!("the workbook is damaged ({e}); save it again"))?;
        if total > UNZIPPED_LIMIT {
            return Err(format!(
                "the workbook unzips to more than {} MB, far more than a roster: this is not a roster",
                UNZIPPED_LIMIT >> 20
            ));
        }
    }
    Ok(())
}

fn read_xlsx(path: &Path) -> Result<Sheet, String> {
    use calamine::Reader;
    let damaged = |e: calamine::XlsxError| format!("the first sheet is damaged ({e}); save the workbook again");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path)
        .map_err(|e| format!("not a readable workbook ({e}); open it in Excel and save it again as .xlsx"))?;
    let first = book.sheet_names().first().cloned().ok_or("the workbook has no sheet")?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(damaged)?;
    let mut sheet = Sheet::default();
    while let Some(cell) = cells.next_cell().map_err(damaged)? {
        let (row, col) = cell.get_position();
        sheet.put(row as usize, col as usize, calamine::Data::from(cell.get_value().clone()).to_string())?;
    }
    Ok(sheet)
}

/// An attribute's count ("number-rows-repeated" and the like), 1 when absent.
fn repeats(e: &BytesStart, name: &str) -> usize {
    e.attributes().flatten().find(|a| a.key.as_ref() == name).and_then(|a| a.value.trim().parse().ok()).unwrap_or(1)
}

/// OpenDocument keeps the sheet in content.xml; read as XML events, a
/// repeated row or cell costs nothing until it holds text.
fn read_ods(path: &Path) -> Result<Sheet, String> {
    let mut zip = open_zip(path)?;
    let content = zip
        .by_name("content.xml")
        .map_err(|_| "not an OpenDocument spreadsheet (it has no content.xml); save it again as .ods or .xlsx")?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(content));
    let broken = |e: quick_xml::Error| format!("the sheet is damaged ({e}); save the workbook again");
    let (mut buf, mut skip) = (Vec::new(), Vec::new());
    let mut sheet = Sheet::default();
    let (mut row, mut col) = (0usize, 0usize);
    let (mut row_repeat, mut cell_repeat) = (1usize, 1usize);
    // Filled cells of the row being read; the text of the cell being read.
    let mut filled: Vec<(usize, String)> = Vec::new();
    let mut text: Option<String> = None;
    let mut paragraphs = 0;
    let mut in_table = false;
    loop {
        let event = xml.read_event_into(&mut buf).map_err(broken)?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table" if !in_table => in_table = true,
                "table:table-row" if in_table => {
                    row_repeat = repeats(&e, "table:number-rows-repeated");
                    (col, filled) = (0, Vec::new());
                    if empty {
                        row = row.saturating_add(row_repeat);
                    }
                }
                "table:table-cell" | "table:covered-table-cell" if in_table => {
                    cell_repeat = repeats(&e, "table:number-columns-repeated");
                    if empty {
                        col = col.saturating_add(cell_repeat);
                    } else {
                        (text, paragraphs) = (Some(String::new()), 0);
                    }
                }
                // A comment on a cell is not its value.
                "office:annotation" if !empty => {
                    xml.read_to_end_into(e.name(), &mut skip).map_err(broken)?;
                }
                "text:p" | "text:h" => {
                    if let Some(t) = text.as_mut() {
                        if paragraphs > 0 {
                            t.push('\n');
                        }
                        paragraphs += 1;
                    }
                }
                "text:s" => {
                    if let Some(t) = text.as_mut() {
                        t.extend(std::iter::repeat_n(' ', repeats(&e, "text:c").min(1_000)));
                    }
                }
                "text:tab" | "text:line-break" => {
                    if let Some(t) = text.as_mut() {
                        t.push(if e.name().as_ref() == "text:tab" { '\t' } else { '\n' });
                    }
                }
                _ => {}
            },
            Event::Text(e) => {
                if let Some(t) = text.as_mut() {
                    t.push_str(&e.xml10_content());
                }
            }
            Event::GeneralRef(e) => {
                if let Some(t) = text.as_mut() {
                    match e.resolve_char_ref() {
                        Ok(Some(c)) => t.push(c),
                        _ => t.push_str(quick_xml::escape::resolve_predefined_entity(&e).unwrap_or_default()),
                    }
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "table:table" => break,
                "table:table-cell" | "table:covered-table-cell" => {
                    let value = text.take().unwrap_or_default();
                    if !value.trim().is_empty() {
                        // Checked before the cell is repeated, not after.
                        if col.saturating_add(cell_repeat) > COLUMN_LIMIT {
                            return Err(beyond_columns(row, col.max(COLUMN_LIMIT)));
                        }
                        filled.extend((col..col + cell_repeat).map(|c| (c, value.clone())));
                    }
                    col = col.saturating_add(cell_repeat);
                }
                "table:table-row" => {
                    // A filled row repeated past the limits fails in `put`
                    // at the first cell too many.
                    for r in 0..if filled.is_empty() { 0 } else { row_repeat } {
                        for (c, value) in &filled {
                            sheet.put(row + r, *c, value.clone())?;
                        }
                    }
                    row = row.saturating_add(row_repeat);
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        // Bytes, checked as they come; `put` counts the characters.
        if text.as_ref().is_some_and(|t| t.len() > 4 * CELL_TEXT_LIMIT) {
            return Err(cell_too_long(row, col));
        }
        buf.clear();
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_named_as_the_spreadsheet_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(9, 27), "AB10");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
    }

    #[test]
    fn a_sheet_refuses_a_cell_past_its_columns_and_text_past_its_size() {
        let mut sheet = Sheet::default();
        sheet.put(0, 2, "x".into()).unwrap();
        sheet.put(0, 0, "a".into()).unwrap();
        sheet.put(4, 1, " ".into()).unwrap();
        assert_eq!(sheet.rows, [(1, vec!["a".to_string(), String::new(), "x".to_string()])]);
        let err = sheet.put(1_048_575, 16_383, "x".into()).unwrap_err();
        assert!(err.contains("XFD1048576"), "{err}");
        let err = sheet.put(6, 1, "ạ".repeat(CELL_TEXT_LIMIT + 1)).unwrap_err();
        assert!(err.contains("cell B7 holds more than 32767 characters"), "{err}");
        let big = "x".repeat(CELL_TEXT_LIMIT);
        let err = (0..3_000).try_for_each(|r| sheet.put(r + 10, 0, big.clone())).unwrap_err();
        assert!(err.contains("not a roster"), "{err}");
    }
}
