//! 10,000 random and mutated inputs for each reader of outside files: the
//! roster (CSV in UTF-8 and UTF-16, with and without a byte-order mark;
//! XLSX; ODS), the settings file and the photo decoder. Each input must end
//! in a result or an error, never a panic. Seeded: a failure names its seed
//! and input number, and the input is kept in target/fuzz-failures.

mod common;

use common::workbook::{ods, ods_cell, unzip, zip_bytes};

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

const INPUTS: usize = 10_000;

/// Bytes that make parsers take another branch: quotes, separators, line
/// ends, byte-order marks, XML and TOML syntax, a lone surrogate half.
const TOKENS: [&[u8]; 18] = [
    b"\"",
    b",",
    b";",
    b"\t",
    b"\r\n",
    b"\n",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xFE\xFF",
    b"\xD8\x00",
    b"<",
    b"/>",
    b"&amp;",
    b"]]>",
    b"[[",
    b"= ",
    b"\x00",
    b"99999999999999999999",
];

/// `seed` changed in one to eight places: bytes flipped, cut, doubled or
/// spliced with a token, or cut short.
fn mutate(seed: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.random_range(1..=8) {
        let at = rng.random_range(0..=data.len());
        match rng.random_range(0..6) {
            0 if at < data.len() => data[at] ^= 1 << rng.random_range(0..8),
            1 => {
                let end = (at + rng.random_range(0..64)).min(data.len());
                data.drain(at..end);
            }
            2 => {
                let end = (at + rng.random_range(0..256)).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            3 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            4 => data.truncate(at),
            _ => {
                let mut noise = vec![0u8; rng.random_range(1..32)];
                rng.fill_bytes(&mut noise);
                data.splice(at..at, noise);
            }
        }
    }
    data
}

/// Runs `read` on 10,000 inputs: a fifth pure noise, the rest mutations of
/// `seeds`. A panic fails the test, naming the input, which is kept. Both
/// answers must come often enough to show that the inputs reach past the
/// first check: `read` says whether the input was taken.
fn fuzz(name: &str, seeds: &[Vec<u8>], mut read: impl FnMut(&[u8]) -> bool) {
    let mut rng = StdRng::seed_from_u64(21);
    let mut taken = 0;
    for n in 0..INPUTS {
        let input = if n % 5 == 0 {
            let mut noise = vec![0u8; rng.random_range(0..2048)];
            rng.fill_bytes(&mut noise);
            noise
        } else {
            mutate(&seeds[n % seeds.len()], &mut rng)
        };
        let Ok(ok) = catch_unwind(AssertUnwindSafe(|| read(&input))) else {
            let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
            std::fs::create_dir_all(&kept).unwrap();
            let file = kept.join(format!("{name}-{n}"));
            std::fs::write(&file, &input).unwrap();
            panic!("{name}: input {n} (seed 21) panicked; it is kept in {}", file.display());
        };
        taken += ok as usize;
    }
    println!("{name}: {INPUTS} inputs, {taken} taken, {} refused, no panic", INPUTS - taken);
    assert!((1..INPUTS * 4 / 5).contains(&taken), "{name}: {taken} of {INPUTS} taken");
}

const ROSTER: &str = "code,name,delegation,seat,photo,Đồng ý\nD001,Nguyễn Văn An,Đoàn Hà Nội,A-12,an.jpg,có\n\
                      D002,\"Lê, Thị \"\"Hà\"\"\",Đoàn Huế,B-3,ha.jpg | hà2.png,không\nD003,Trần Bình,,,,\n";

#[test]
fn csv_rosters_in_every_encoding_never_panic() {
    let utf16 = |bom: [u8; 2], le: bool| -> Vec<u8> {
        let text = ROSTER.replace(',', "\t");
        let units = text.encode_utf16().flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() });
        bom.into_iter().chain(units).collect()
    };
    let seeds = vec![
        ROSTER.as_bytes().to_vec(),
        [b"\xEF\xBB\xBF".as_slice(), ROSTER.as_bytes()].concat(),
        ROSTER.replace(',', ";").into_bytes(),
        utf16([0xFF, 0xFE], true),
        utf16([0xFE, 0xFF], false),
    ];
    fuzz("csv", &seeds, |bytes| kiosk::secretariat::roster::parse_roster(bytes).is_ok());
}

/// The same workbook fuzzed twice: as the file's bytes (most mutations break
/// the zip), and with one member's XML mutated inside a sound zip, so that
/// the mutations reach the sheet readers.
fn fuzz_workbook(name: &str, workbook: &[u8], inner: &[&str], extension: &str) {
    let dir = tempfile::tempdir().unwrap();
    let members = unzip(workbook);
    let stored = zip_bytes(&members, zip::CompressionMethod::Stored);
    fuzz(name, &[workbook.to_vec(), stored], through_file(dir.path(), extension));
    let body = |name: &str| members.iter().find(|(m, _)| m == name).map(|(_, b)| b.clone()).unwrap();
    let seeds: Vec<Vec<u8>> = inner.iter().map(|name| body(name)).collect();
    let mut read = through_file(dir.path(), extension);
    let mut n = 0;
    fuzz(&format!("{name}-xml"), &seeds, |xml| {
        // Each seed in turn takes the mutated XML, in the order `fuzz` uses them.
        let target = &inner[n % seeds.len()];
        n += 1;
        let changed: Vec<(String, Vec<u8>)> = members
            .iter()
            .map(|(m, body)| (m.clone(), if m == target { xml.to_vec() } else { body.clone() }))
            .collect();
        read(&zip_bytes(&changed, zip::CompressionMethod::Deflated))
    });
}

/// A workbook's bytes read through a file, as `kiosk enroll` reads them.
fn through_file(dir: &Path, extension: &str) -> impl FnMut(&[u8]) -> bool {
    let path = dir.join(format!("roster.{extension}"));
    move |bytes| {
        std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
        kiosk::secretariat::roster::read_roster(&path).is_ok()
    }
}

#[test]
fn xlsx_rosters_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in ROSTER.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    sheet.write_number(4, 3, 12.0).unwrap();
    book.save(&path).unwrap();
    let inner = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"];
    fuzz_workbook("xlsx", &std::fs::read(&path).unwrap(), &inner, "xlsx");
}

#[test]
fn ods_rosters_never_panic() {
    let rows: String = ROSTER
        .lines()
        .map(|l| format!("<table:table-row>{}</table:table-row>", l.split(',').map(ods_cell).collect::<String>()))
        .collect();
    let repeated = "<table:table-row table:number-rows-repeated=\"3\"><table:table-cell table:number-columns-repeated=\"2\">\
                    <text:p>x<text:s text:c=\"3\"/>y</text:p></table:table-cell></table:table-row>";
    fuzz_workbook("ods", &ods(&format!("{rows}{repeated}")), &["content.xml"], "ods");
}

#[test]
fn settings_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/default.toml")).unwrap();
    let small = b"[event]\nname = \"\xC4\x90\xE1\xBA\xA1i h\xE1\xBB\x99i\"\nquorum_above_percent = 50.0\n\
                  [decide]\nthreshold = 0.45\n[camera]\ndevice = \"0\"\n[[event.signatures]]\ntitle = \"x\"\n"
        .to_vec();
    let path = dir.path().join("kiosk.toml");
    fuzz("settings", &[shipped, small], |bytes| {
        std::fs::write(&path, bytes).unwrap();
        kiosk::config::Config::load(Some(&path)).is_ok()
    });
}

#[test]
fn photos_never_panic_the_decoder() {
    let Some(faces) = common::faces("photo decoder fuzzing") else { return };
    let photo = image::open(common::gallery(&faces, 1)[0].1.clone()).unwrap();
    let small = photo.resize(48, 48, image::imageops::FilterType::Triangle);
    let seeds: Vec<Vec<u8>> = [image::ImageFormat::Jpeg, image::ImageFormat::Png, image::ImageFormat::WebP]
        .into_iter()
        .chain([image::ImageFormat::Bmp, image::ImageFormat::Tiff])
        .map(|format| {
            let mut bytes = std::io::Cursor::new(Vec::new());
            small.to_rgb8().write_to(&mut bytes, format).unwrap();
            bytes.into_inner()
        })
        .collect();
    fuzz("image", &seeds, |bytes| kiosk::vision::decode::decode_image(bytes).is_ok());
}
