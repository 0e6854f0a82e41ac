//! Workbooks made by hand for the roster readers' tests: zips of members
//! (the form of XLSX and ODS), and OpenDocument sheets.

use std::io::{Cursor, Seek, Write};

/// What writes one member of a zip: a closure, so that a member of a
/// gigabyte is streamed into the zip, never held.
pub type Member = Box<dyn Fn(&mut dyn Write)>;

pub fn bytes(body: impl Into<Vec<u8>>) -> Member {
    let body = body.into();
    Box::new(move |w| w.write_all(&body).unwrap())
}

/// `members` zipped into `out`, each compressed by `method`; `out` back.
pub fn zip_into<W: Write + Seek>(out: W, members: Vec<(String, Member)>, method: zip::CompressionMethod) -> W {
    let mut zip = zip::ZipWriter::new(out);
    for (name, write) in members {
        zip.start_file(name, zip::write::SimpleFileOptions::default().compression_method(method)).unwrap();
        write(&mut zip);
    }
    zip.finish().unwrap()
}

/// A zip of `members` held as bytes.
pub fn zip_bytes(members: &[(String, Vec<u8>)], method: zip::CompressionMethod) -> Vec<u8> {
    let members = members.iter().map(|(name, body)| (name.clone(), bytes(body.clone()))).collect();
    zip_into(Cursor::new(Vec::new()), members, method).into_inner()
}

/// The members of the zip `zipped`, in order.
pub fn unzip(zipped: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(zipped)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut member = zip.by_index(i).unwrap();
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut member, &mut body).unwrap();
            (member.name().unwrap().into_owned(), body)
        })
        .collect()
}

/// A table cell of text, as LibreOffice writes it.
pub fn ods_cell(text: &str) -> String {
    format!("<table:table-cell office:value-type=\"string\"><text:p>{text}</text:p></table:table-cell>")
}

/// An OpenDocument spreadsheet whose one table holds `rows` as written.
pub fn ods(rows: &str) -> Vec<u8> {
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" \
         office:version=\"1.2\"><office:body><office:spreadsheet><table:table table:name=\"Danh sách\">\
         {rows}</table:table></office:spreadsheet></office:body></office:document-content>"
    );
    let members = [
        ("mimetype".to_string(), b"application/vnd.oasis.opendocument.spreadsheet".to_vec()),
        ("content.xml".to_string(), content.into_bytes()),
    ];
    zip_bytes(&members, zip::CompressionMethod::Deflated)
}
