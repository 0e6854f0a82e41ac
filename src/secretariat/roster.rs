//! The delegate roster: a CSV file with the header `code,name,delegation,seat,photo`
//! (more columns allowed and kept). Bad rows are reported by line number and
//! skipped; only a file that cannot be a roster at all is an error.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::Delegate;

/// The longest each field may be, in characters: longer than any real
/// name or code, short enough that a crafted roster cannot make the papers
/// or a spreadsheet cell fail (Excel takes 32,767 at most).
const FIELD_LIMITS: [(&str, usize); 4] = [("name", 200), ("delegation", 200), ("code", 50), ("seat", 50)];
/// Other columns (role, email, notes) are kept, up to this many characters.
const OTHER_LIMIT: usize = 1_000;

pub const REQUIRED_COLUMNS: [&str; 5] = ["code", "name", "delegation", "seat", "photo"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Line in the file (the header is line 1), for messages.
    pub line: usize,
    pub delegate: Delegate,
    /// As written in the roster, relative to the photo folder; several are
    /// separated by "|"; none = the delegate uses the search lane.
    pub photos: Vec<String>,
    /// False when a consent column says no: kept on the roster, no face template.
    pub consent: bool,
}

impl Entry {
    /// The photos to enrol, or one `None` for a delegate who has none or did
    /// not consent (so that the report still has a line for them).
    pub fn photos_to_enrol(&self) -> Vec<Option<&str>> {
        if self.consent && !self.photos.is_empty() {
            self.photos.iter().map(|p| Some(p.as_str())).collect()
        } else {
            vec![None]
        }
    }
}

/// Consent columns, folded, and the answers that mean no.
const CONSENT_COLUMNS: [&str; 3] = ["consent", "dong y", "biometric consent"];
const REFUSALS: [&str; 7] = ["no", "n", "0", "false", "khong", "khong dong y", "refused"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowProblem {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Roster {
    pub entries: Vec<Entry>,
    /// Rows skipped, and why.
    pub problems: Vec<RowProblem>,
    /// Rows taken, but changed (invisible characters dropped).
    pub warnings: Vec<RowProblem>,
}

/// A CSV file, or the first sheet of an XLSX or OpenDocument (.ods) workbook.
pub fn read_roster(path: &Path) -> Result<Roster> {
    let parsed = regular_file(path).and_then(|()| read_any(path));
    parsed.map_err(|m| Error::Roster(format!("roster {}: {m}", path.display())))
}

/// A roster is a file of a sensible size: a pipe, a device or a folder given
/// by mistake is named, never read until it ends.
fn regular_file(path: &Path) -> std::result::Result<(), String> {
    const SIZE_LIMIT: u64 = 64 << 20;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("is not a file (a folder, a device or a pipe); give the roster's CSV, XLSX or ODS file".into());
    }
    if meta.len() > SIZE_LIMIT {
        return Err(format!("is {} MB, far more than any roster (at most {} MB)", meta.len() >> 20, SIZE_LIMIT >> 20));
    }
    Ok(())
}

fn read_any(path: &Path) -> std::result::Result<Roster, String> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "xlsx" | "xlsm" | "ods" => read_spreadsheet(path, extension == "ods"),
        "xls" | "xlsb" => Err(format!(
            "the .{extension} format is not read; open it in Excel and save it as .xlsx (Excel Workbook) or as CSV UTF-8"
        )),
        _ => std::fs::read(path).map_err(|e| format!("cannot read it: {e}")).and_then(|bytes| parse_roster(&bytes)),
    }
}

fn read_spreadsheet(path: &Path, ods: bool) -> std::result::Result<Roster, String> {
    let mut rows = super::workbook::read(path, ods)?.rows.into_iter();
    let (_, header) = rows.next().ok_or("the first sheet is empty")?;
    let header = header.iter().map(|c| c.trim().to_string()).collect();
    build(header, rows.map(|(line, cells)| (line, Ok(cells))))
}

/// Header names organisers write, folded (lower case, no diacritics), for each column.
const ALIASES: [(&str, &[&str]); 5] = [
    ("code", &["code", "ma", "ma dai bieu", "ma so"]),
    ("name", &["name", "ho va ten", "ho ten", "full name"]),
    ("delegation", &["delegation", "doan", "don vi"]),
    ("seat", &["seat", "ghe", "so ghe", "cho ngoi"]),
    ("photo", &["photo", "anh", "hinh anh", "file anh"]),
];

fn canonical(header: &str) -> Option<&'static str> {
    let folded = crate::text::fold(header.trim());
    ALIASES.iter().find(|(_, names)| names.contains(&folded.as_str())).map(|(key, _)| *key)
}

/// UTF-8 (with or without a byte-order mark) as it is; UTF-16 with a
/// byte-order mark, as Excel's "Unicode text" saves it, converted.
fn to_utf8(bytes: &[u8]) -> std::result::Result<std::borrow::Cow<'_, [u8]>, String> {
    let utf16 = |units: Vec<u16>| {
        char::decode_utf16(units)
            .collect::<std::result::Result<String, _>>()
            .map(|s| std::borrow::Cow::Owned(s.into_bytes()))
            .map_err(|_| "the file says it is UTF-16 but holds invalid text".to_string())
    };
    let pairs = |b: &[u8], le: bool| -> Vec<u16> {
        b.chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(pairs(rest, true));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(pairs(rest, false));
    }
    Ok(std::borrow::Cow::Borrowed(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)))
}

/// Commas, or what the header line uses instead: tabs (Excel's "Unicode
/// text") or semicolons (Excel where the comma is the decimal mark).
fn delimiter(text: &[u8]) -> u8 {
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    [b'\t', b';'].into_iter().find(|&d| count(d) > count(b',')).unwrap_or(b',')
}

pub fn parse_roster(bytes: &[u8]) -> std::result::Result<Roster, String> {
    let text = to_utf8(bytes)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).delimiter(delimiter(&text)).from_reader(text.as_ref());
    let header = reader.byte_headers().map_err(|e| format!("cannot read the header line: {e}"))?.clone();
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            std::str::from_utf8(h)
                .map(|s| s.trim().to_string())
                .map_err(|_| format!("header column {} is not UTF-8 text; save the file as CSV UTF-8", i + 1))
        })
        .collect::<std::result::Result<_, _>>()?;
    let records = reader.byte_records().enumerate().map(|(i, record)| {
        let line = i + 2;
        let fields = record.map_err(|e| format!("unreadable row: {e}")).and_then(|r| {
            r.iter()
                .map(|f| std::str::from_utf8(f).map(str::to_string))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| {
                    "the row is not UTF-8 text (was the file saved in another encoding? save it as CSV UTF-8)"
                        .to_string()
                })
        });
        (line, fields)
    });
    build(header, records)
}

/// The roster from a header and numbered rows, whatever file they came from.
fn build(
    header: Vec<String>,
    records: impl Iterator<Item = (usize, std::result::Result<Vec<String>, String>)>,
) -> std::result::Result<Roster, String> {
    let mut column: HashMap<&str, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(key) = canonical(h) {
            column.entry(key).or_insert(i);
        }
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS.iter().copied().filter(|c| !column.contains_key(c)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing column(s) {}; the first line must name the columns {} (or Mã, Họ và tên, Đoàn, Ghế, Ảnh) (found: {})",
            missing.join(", "),
            REQUIRED_COLUMNS.join(","),
            header.join(",")
        ));
    }
    let mut roster = Roster::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, fields) in records {
        let fields: Vec<String> = match fields {
            Ok(f) => f.into_iter().map(|v| v.trim().to_string()).collect(),
            Err(message) => {
                roster.problems.push(RowProblem { line, message });
                continue;
            }
        };
        // One form for every name and code, so that "Nguyễn" typed two ways is one name.
        let (fields, dropped): (Vec<String>, Vec<bool>) =
            fields.iter().map(|f| crate::text::normalize(f)).map(|(v, d)| (v.trim().to_string(), d)).unzip();
        if dropped.contains(&true) {
            let columns: Vec<&str> =
                header.iter().zip(&dropped).filter(|(_, d)| **d).map(|(h, _)| h.as_str()).collect();
            roster.warnings.push(RowProblem {
                line,
                message: format!(
                    "invisible or control characters (zero-width, control, right-to-left marks) removed from {}; check the row in the roster",
                    if columns.is_empty() { "the row".to_string() } else { columns.join(", ") }
                ),
            });
        }
        if fields.iter().all(String::is_empty) {
            continue;
        }
        let get = |name: &str| fields.get(column[name]).cloned().unwrap_or_default();
        let (code, name) = (get("code"), get("name"));
        if code.is_empty() || name.is_empty() {
            let what = if code.is_empty() { "code" } else { "name" };
            roster.problems.push(RowProblem { line, message: format!("empty {what}; the row was skipped") });
            continue;
        }
        let too_long = FIELD_LIMITS.iter().find(|(field, limit)| get(field).chars().count() > *limit);
        if let Some((field, limit)) = too_long {
            roster.problems.push(RowProblem {
                line,
                message: format!(
                    "the {field} has {} characters, more than the {limit} a {field} may have; the row was skipped",
                    get(field).chars().count()
                ),
            });
            continue;
        }
        if let Some(first) = seen.get(&code) {
            roster.problems.push(RowProblem {
                line,
                message: format!("code {code} is already used on line {first}; the row was skipped (each delegate needs a unique code)"),
            });
            continue;
        }
        seen.insert(code.clone(), line);
        let extra: BTreeMap<String, String> = header
            .iter()
            .enumerate()
            .filter(|(i, h)| !column.values().any(|c| c == i) && !h.is_empty())
            .map(|(i, h)| (h.clone(), fields.get(i).cloned().unwrap_or_default()))
            .collect();
        if let Some((column, value)) = extra.iter().find(|(_, v)| v.chars().count() > OTHER_LIMIT) {
            roster.problems.push(RowProblem {
                line,
                message: format!(
                    "column {column} has {} characters, more than the {OTHER_LIMIT} a column may have; the row was skipped",
                    value.chars().count()
                ),
            });
            continue;
        }
        let consent = !extra.iter().any(|(k, v)| {
            CONSENT_COLUMNS.contains(&crate::text::fold(k).as_str()) && REFUSALS.contains(&crate::text::fold(v).trim())
        });
        let photos = get("photo").split('|').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect();
        roster.entries.push(Entry {
            line,
            photos,
            consent,
            delegate: Delegate { code, name, delegation: get("delegation"), seat: get("seat"), extra },
        });
    }
    Ok(roster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_longer_than_its_limit_skips_the_row_and_names_the_column() {
        let long = "A".repeat(201);
        let csv = format!(
            "code,name,delegation,seat,photo,note\nD1,{long},X,1,a.jpg,\nD2,Lê Hà,X,{},b.jpg,\nD3,Trần An,X,3,c.jpg,\nD4,Lê An,X,4,d.jpg,{}\n",
            "9".repeat(51),
            "n".repeat(1001)
        );
        let r = parse_roster(csv.as_bytes()).unwrap();
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.problems.len(), 3);
        assert!(r.problems[2].message.contains("column note has 1001 characters") && r.problems[2].line == 5);
        assert!(r.problems[0].message.contains("the name has 201 characters") && r.problems[0].line == 2);
        assert!(r.problems[1].message.contains("the seat has 51 characters") && r.problems[1].line == 3);
    }

    #[test]
    fn reads_vietnamese_names_extra_columns_and_a_bom() {
        let csv = "\u{feff}code,name,delegation,seat,photo,role\nD001,Nguyễn Văn An,Hà Nội,A-12,an.jpg,Đại biểu\n";
        let r = parse_roster(csv.as_bytes()).unwrap();
        assert!(r.problems.is_empty());
        let e = &r.entries[0];
        assert_eq!(e.delegate.name, "Nguyễn Văn An");
        assert_eq!(e.delegate.extra["role"], "Đại biểu");
        assert_eq!((e.line, e.photos.as_slice()), (2, ["an.jpg".to_string()].as_slice()));
        assert!(e.consent);
    }

    #[test]
    fn reports_bad_rows_by_line_and_keeps_the_good_ones() {
        let mut csv = b"code,name,delegation,seat,photo\nD1,A,X,1,a.jpg\nD1,B,X,2,b.jpg\n,C,X,3,c.jpg\nD4,".to_vec();
        csv.extend_from_slice(&[0xC0, 0xC1]);
        csv.extend_from_slice(b",X,4,d.jpg\nD5,E,X,5,e.jpg\n");
        let r = parse_roster(&csv).unwrap();
        assert_eq!(r.entries.iter().map(|e| e.delegate.code.as_str()).collect::<Vec<_>>(), ["D1", "D5"]);
        let lines: Vec<usize> = r.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(r.problems[0].message.contains("line 2"));
        assert!(r.problems[2].message.contains("UTF-8"));
    }

    #[test]
    fn several_photos_and_a_refused_consent() {
        let csv =
            "code,name,delegation,seat,photo,Đồng ý\nD1,A,X,1,a1.jpg | a2.jpg,có\nD2,B,X,2,b.jpg,Không\nD3,C,X,3,,\n";
        let r = parse_roster(csv.as_bytes()).unwrap();
        let got: Vec<(usize, bool)> = r.entries.iter().map(|e| (e.photos.len(), e.consent)).collect();
        assert_eq!(got, [(2, true), (1, false), (0, true)]);
        assert_eq!(r.entries[0].photos, ["a1.jpg", "a2.jpg"]);
    }

    #[test]
    fn names_and_codes_are_stored_composed_and_invisible_characters_are_dropped_with_a_warning() {
        let csv = "code,name,delegation,seat,photo\nD\u{200B}1,Nguye\u{0302}\u{0303}n Va\u{0306}n A,Ha\u{0300} No\u{0323}\u{0302}i,1,a.jpg\nD2,Lê Hà,X,2,b.jpg\n";
        let r = parse_roster(csv.as_bytes()).unwrap();
        let e = &r.entries[0].delegate;
        assert_eq!((e.code.as_str(), e.name.as_str(), e.delegation.as_str()), ("D1", "Nguyễn Văn A", "Hà Nội"));
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].line, 2);
        assert!(r.warnings[0].message.contains("code"), "{}", r.warnings[0].message);
        assert!(r.problems.is_empty());
    }

    #[test]
    fn refuses_a_file_without_the_required_columns() {
        let err = parse_roster(b"code,name,seat\nD1,A,1\n").unwrap_err();
        assert!(err.contains("delegation") && err.contains("photo"), "{err}");
    }

    #[test]
    fn reads_vietnamese_headers_and_excel_unicode_text() {
        let text = "Mã\tHọ và tên\tĐoàn\tGhế\tẢnh\tChức vụ\nD9\tLê Thị Hà\tĐoàn Huế\tC-1\tha.jpg\tỦy viên\n";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let r = parse_roster(&utf16).unwrap();
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let e = &r.entries[0];
        assert_eq!((e.delegate.code.as_str(), e.delegate.name.as_str()), ("D9", "Lê Thị Hà"));
        assert_eq!(e.photos, ["ha.jpg"]);
        assert_eq!(e.delegate.extra["Chức vụ"], "Ủy viên");
        let semicolons = parse_roster("code;name;delegation;seat;photo\nD1;An;X;1;a.jpg\n".as_bytes()).unwrap();
        assert_eq!(semicolons.entries[0].delegate.seat, "1");
    }
}
