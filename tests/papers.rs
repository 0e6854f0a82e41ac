//! The papers the secretariat signs, printed for real: PDFs rendered with
//! poppler (`pdftoppm`, `pdftotext`), workbooks read back cell by cell, on a
//! roster of 300 delegates with Vietnamese names.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Reader, Xlsx, open_workbook};
use common::*;
use kiosk::store::{Delegate, Method, Store};

const SESSION: &str = "Phiên khai mạc";

/// 300 delegates in 12 delegations, every diacritic of the alphabet in their
/// names; the first `present` of them checked in.
fn congress(dir: &Path, present: usize) -> (PathBuf, Vec<Delegate>) {
    let families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô"];
    let middles = ["Văn", "Thị", "Đức", "Ngọc", "Quỳnh", "Hữu", "Thế"];
    let given = [
        "An",
        "Ánh",
        "Bình",
        "Cường",
        "Dũng",
        "Đạt",
        "Giang",
        "Hà",
        "Hải",
        "Hằng",
        "Hưng",
        "Khải",
        "Lụa",
        "Mỹ",
        "Nga",
        "Ngọc",
        "Oanh",
        "Phượng",
        "Quế",
        "Sơn",
        "Thảo",
        "Thuỷ",
        "Tuấn",
        "Ước",
        "Vỹ",
        "Yến",
    ];
    let delegations = [
        "Đoàn Hà Nội",
        "Đoàn Hải Phòng",
        "Đoàn Thừa Thiên Huế",
        "Đoàn Đà Nẵng",
        "Đoàn TP. Hồ Chí Minh",
        "Đoàn Cần Thơ",
        "Đoàn Quảng Ninh",
        "Đoàn Nghệ An",
        "Đoàn Đắk Lắk",
        "Đoàn Bà Rịa – Vũng Tàu",
        "Đoàn Công đoàn Giáo dục",
        "Đoàn Công đoàn Y tế",
    ];
    let delegates: Vec<Delegate> = (0..300)
        .map(|i| Delegate {
            code: format!("DB{:03}", (i * 7919) % 1000),
            name: format!("{} {} {}", families[i % 13], middles[(i / 13) % 7], given[(i * 5 + i / 91) % 26]),
            delegation: delegations[i % 12].to_string(),
            seat: format!("{}-{}", (b'A' + (i / 30) as u8) as char, i % 30 + 1),
            ..Delegate::default()
        })
        .collect();
    let db = dir.join("congress.db");
    let mut store = Store::open(&db).unwrap();
    store
        .transaction(|tx| {
            tx.ensure_session(SESSION)?;
            for (i, d) in delegates.iter().enumerate() {
                tx.upsert_delegate(d)?;
                if i < present {
                    let method = if i % 10 == 0 { Method::Manual } else { Method::Face };
                    tx.check_in(SESSION, &d.code, method, "cửa-chính", None, None)?;
                }
            }
            Ok(())
        })
        .unwrap();
    (db, delegates)
}

fn poppler_ok(test: &str) -> bool {
    let ok =
        Command::new("pdftotext").arg("-v").output().is_ok() && Command::new("pdftoppm").arg("-v").output().is_ok();
    if !ok {
        println!("SKIPPED {test}: pdftotext/pdftoppm are missing (tools/setup.sh installs poppler-utils)");
    }
    ok
}

fn pdf_text(pdf: &Path) -> String {
    let o = Command::new("pdftotext").args(["-layout", "-enc", "UTF-8"]).arg(pdf).arg("-").output().unwrap();
    assert!(o.status.success(), "pdftotext {}: {}", pdf.display(), stderr(&o));
    stdout(&o)
}

/// Every page as a PNG in target/screenshots (to be looked at); returns how many.
fn render(pdf: &Path, name: &str) -> usize {
    let out = screenshots();
    let prefix = out.join(name);
    let o = Command::new("pdftoppm").args(["-r", "80", "-png"]).arg(pdf).arg(&prefix).output().unwrap();
    assert!(o.status.success(), "pdftoppm {}: {}", pdf.display(), stderr(&o));
    let pages: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{name}-")))
        .collect();
    for page in &pages {
        let img = image::open(page).unwrap().to_luma8();
        assert!(img.pixels().any(|p| p.0[0] < 100), "{} is blank", page.display());
    }
    pages.len()
}

#[test]
fn the_signed_list_prints_every_name_as_on_the_roster_in_vietnamese_order() {
    if !poppler_ok("attendance list PDF") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, delegates) = congress(dir.path(), 160);
    let pdf = dir.path().join("list.pdf");
    run_ok(&["export", "--db", path_str(&db), "--session", SESSION, "--format", "pdf", "--out", path_str(&pdf)]);
    let text = pdf_text(&pdf);
    let pages = render(&pdf, "attendance-list");
    assert!(pages >= 8, "300 rows on landscape A4 take several pages, got {pages}");
    assert_eq!(text.matches("STT").count(), pages, "the column titles head every page");
    assert!(text.contains(&format!("Trang {pages} / {pages}")), "page numbers");
    assert!(text.contains("DANH SÁCH ĐẠI BIỂU ĐIỂM DANH") && text.contains("Nhật ký kiểm toán:"), "{text}");

    // Byte for byte as on the roster, in the Vietnamese order (given name first).
    let mut expected = delegates.clone();
    expected.sort_by_cached_key(|d| (kiosk::text::collate::name_key(&d.name), d.code.clone()));
    let lines: Vec<&str> = text.lines().collect();
    let mut last = 0;
    for (i, d) in expected.iter().enumerate() {
        let at = lines
            .iter()
            .position(|l| l.contains(&format!(" {} ", d.code)))
            .unwrap_or_else(|| panic!("{} is not on the list", d.code));
        let line = lines[at];
        assert!(line.contains(&d.name), "{} printed as {line:?}", d.name);
        assert!(line.trim_start().starts_with(&format!("{} ", i + 1)), "STT of {}: {line:?}", d.code);
        assert!(at >= last, "{} out of order", d.name);
        last = at;
    }

    // The counts are those of `kiosk stats`.
    let stats = run_ok(&["stats", "--db", path_str(&db), "--session", SESSION]);
    assert!(stats.contains("160 / 300 present"), "{stats}");
    assert!(text.contains("Triệu tập: 300 · Có mặt: 160 · Vắng: 140 · Tỉ lệ có mặt: 53,3%"), "{text}");
    assert_eq!(text.matches("Có mặt ").count() - pages, 160, "present rows (each page's header says it too)");

    // In English on request, and the CSV keeps its stable header unless asked.
    let en = dir.path().join("list-en.pdf");
    run_ok(&[
        "export",
        "--db",
        path_str(&db),
        "--session",
        SESSION,
        "--format",
        "pdf",
        "--lang",
        "en",
        "--out",
        path_str(&en),
    ]);
    assert!(pdf_text(&en).contains("Present: 160"));
    let csv = dir.path().join("list.csv");
    run_ok(&["export", "--db", path_str(&db), "--session", SESSION, "--out", path_str(&csv)]);
    assert!(std::fs::read_to_string(&csv).unwrap().contains("code,name,delegation,seat,status,time,method,kiosk"));
    run_ok(&["export", "--db", path_str(&db), "--session", SESSION, "--lang", "vi", "--out", path_str(&csv)]);
    assert!(std::fs::read_to_string(&csv).unwrap().contains("Mã đại biểu,Họ và tên,Đoàn,Ghế,Có mặt / Vắng"));
}

#[test]
fn the_credentials_report_gives_the_verdict_on_both_sides_of_the_rule() {
    if !poppler_ok("credentials report PDF") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, delegates) = congress(dir.path(), 150);
    let cfg = dir.path().join("k.toml");
    std::fs::write(
        &cfg,
        "[[event.signatures]]\nrole = \"Trưởng ban Thẩm tra tư cách đại biểu\"\nname = \"Nguyễn Thị Hằng\"\n\
         [[event.signatures]]\nrole = \"Thư ký\"\nname = \"\"\n",
    )
    .unwrap();
    let report = dir.path().join("report.pdf");
    let make = || {
        run_ok(&[
            "report",
            "--config",
            path_str(&cfg),
            "--db",
            path_str(&db),
            "--session",
            SESSION,
            "--out",
            path_str(&report),
        ]);
        pdf_text(&report)
    };
    // Exactly half is not more than half.
    let text = make();
    assert!(text.contains("Kết luận: Không đủ điều kiện tiến hành"), "{text}");
    assert!(text.contains("trên 50% tổng số đại biểu được triệu tập"), "the rule is quoted: {text}");
    let absent = &delegates[150..];
    for d in absent {
        assert!(text.contains(&d.name) && text.contains(&d.code), "absent {} {} missing", d.code, d.name);
    }
    for d in &delegates[..150] {
        assert!(!text.contains(&format!(" {} ", d.code)), "{} is present, not absent", d.code);
    }
    assert!(text.contains("Trưởng ban Thẩm tra tư cách đại biểu") && text.contains("Nguyễn Thị Hằng"));
    assert!(text.contains("Thư ký") && text.contains("(Ký, ghi rõ họ tên)"));
    assert!(render(&report, "credentials-report-150") >= 2);

    // One more delegate: 151 of 300 is.
    let code = &delegates[150].code;
    run_ok(&["checkin", "--db", path_str(&db), "--session", SESSION, "--code", code, "--reason", "đến muộn"]);
    let text = make();
    assert!(text.contains("Kết luận: Đủ điều kiện tiến hành"), "{text}");
    assert!(text.contains("Có mặt: 151 · Vắng: 149"), "{text}");
    render(&report, "credentials-report-151");
}

#[test]
fn the_papers_carry_a_union_documents_header_and_wrap_long_names() {
    if !poppler_ok("document header") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = congress(dir.path(), 10);
    let long_name = "Công Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Ngọc Bích Trâm Lê Huỳnh Mai Anh";
    let long_delegation = "Đoàn Công đoàn Tập đoàn Công nghiệp Than - Khoáng sản Việt Nam";
    let mut store = Store::open(&db).unwrap();
    let long = Delegate {
        code: "DB999".into(),
        name: long_name.into(),
        delegation: long_delegation.into(),
        seat: "K-1".into(),
        ..Delegate::default()
    };
    store.transaction(|tx| tx.upsert_delegate(&long)).unwrap();
    drop(store);
    let cfg = dir.path().join("k.toml");
    std::fs::write(
        &cfg,
        "[event]\ntime_zone = \"Asia/Ho_Chi_Minh\"\nplace = \"Hà Nội\"\n\
         issuer = [\"TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM\", \"CÔNG ĐOÀN NGÀNH GIÁO DỤC\"]\n",
    )
    .unwrap();
    let today = kiosk::store::time::Zone::parse("Asia/Ho_Chi_Minh").unwrap().now().0.date_naive();
    let dated = format!("Hà Nội, {}", kiosk::text::Lang::Vi.long_date(today));
    for (what, format) in [("export", "pdf"), ("report", "pdf")] {
        let pdf = dir.path().join(format!("{what}.pdf"));
        let args = ["--config", path_str(&cfg), "--db", path_str(&db), "--session", SESSION, "--format", format];
        run_ok(&[&[what][..], &args, &["--out", path_str(&pdf)]].concat());
        let text = pdf_text(&pdf);
        let first_page = text.split('\u{c}').next().unwrap();
        let header = first_page.lines().take(6).collect::<Vec<_>>().join("\n");
        for words in [
            "TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "CÔNG ĐOÀN NGÀNH GIÁO DỤC",
            "Độc lập - Tự do - Hạnh phúc",
            &dated,
        ] {
            assert!(header.contains(words), "{what}: {words:?} is not in the header:\n{header}");
        }
        let issuer = header.lines().find(|l| l.contains("TỔNG LIÊN ĐOÀN")).unwrap();
        assert!(
            issuer.find("TỔNG LIÊN ĐOÀN") < issuer.find("CỘNG HÒA"),
            "the issuer on the left, the country on the right: {issuer:?}"
        );
        if what == "export" {
            let titles = text.lines().find(|l| l.contains("STT")).unwrap();
            assert!(titles.trim_end().ends_with("Ký tên"), "the signature column comes last: {titles:?}");
            let words: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for word in long_name.split(' ').chain(long_delegation.split(' ')) {
                assert!(words.contains(word), "{word} of a long name is missing");
            }
            assert!(!text.contains('…'), "nothing is cut");
        }
    }
    render(&dir.path().join("export.pdf"), "list-with-header");
}

/// A sheet's cells as text, row by row.
fn sheet(book: &Path, name: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(book).unwrap();
    let range = wb.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

/// A part of the XLSX package, as text.
fn part(book: &Path, name: &str) -> String {
    let o = Command::new("unzip").arg("-p").arg(book).arg(name).output().unwrap();
    assert!(o.status.success(), "unzip {name}");
    stdout(&o)
}

#[test]
fn the_workbook_reads_back_as_a_document_set_up_for_printing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, delegates) = congress(dir.path(), 160);
    let book = dir.path().join("list.xlsx");
    run_ok(&["export", "--db", path_str(&db), "--session", SESSION, "--format", "xlsx", "--out", path_str(&book)]);

    let list = sheet(&book, "Danh sách");
    assert!(list[0][0].starts_with("Ngày ") && list[0][0].contains(" tháng "), "dated: {:?}", list[0]);
    let top = list.iter().position(|r| r[0] == "Đại hội Công đoàn — Congress").expect("the event's name");
    assert_eq!(list[top + 1][0], "DANH SÁCH ĐẠI BIỂU ĐIỂM DANH");
    assert_eq!(list[top + 2][0], format!("Phiên: {SESSION}"));
    assert!(list[top + 4][0].starts_with("Nhật ký kiểm toán: "), "{:?}", list[top + 4]);
    let header = list.iter().position(|r| r[0] == "STT").expect("a header row");
    assert_eq!(
        list[header],
        [
            "STT",
            "Mã đại biểu",
            "Họ và tên",
            "Đoàn",
            "Ghế",
            "Có mặt / Vắng",
            "Giờ điểm danh",
            "Hình thức",
            "Kiosk",
            "Ký tên"
        ]
    );
    let rows = &list[header + 1..];
    assert_eq!(rows.len(), 300);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (i + 1).to_string(), "STT");
    }
    let staff = rows.iter().filter(|r| r[7] == "Cán bộ nhập").count();
    assert_eq!(staff, 16, "method in Vietnamese");
    assert_eq!(rows.iter().filter(|r| r[5] == "Vắng").count(), 140);
    assert!(delegates.iter().all(|d| rows.iter().any(|r| r[1] == d.code && r[2] == d.name)));

    let summary = sheet(&book, "Tổng hợp");
    let total = summary.iter().find(|r| r[0] == "Tổng cộng").expect("a total row");
    assert_eq!(total[1..4], ["300", "160", "140"]);
    assert_eq!(total[4], "53.3");
    assert!(summary.iter().any(|r| r[0] == "Kết luận: Đủ điều kiện tiến hành"));
    assert_eq!(summary.iter().filter(|r| r[0].starts_with("Đoàn ")).count(), 12);

    let absent = sheet(&book, "Vắng mặt");
    let header = absent.iter().position(|r| r[0] == "STT").unwrap();
    assert_eq!(absent[header], ["STT", "Đoàn", "Mã đại biểu", "Họ và tên", "Ghế"]);
    assert_eq!(absent.len() - header - 1, 140);
    let groups: Vec<&String> = absent[header + 1..].iter().map(|r| &r[1]).collect();
    assert!(groups.windows(2).all(|w| kiosk::text::collate::compare(w[0], w[1]).is_le()), "by delegation");

    // Frozen under the header, A4, landscape for the list, one page wide, titles repeated, page numbers.
    let first = part(&book, "xl/worksheets/sheet1.xml");
    assert!(first.contains(&format!(r#"ySplit="{}""#, header_of(&list))) && first.contains(r#"state="frozen""#));
    assert!(first.contains(r#"paperSize="9""#) && first.contains(r#"orientation="landscape""#), "{first}");
    assert!(first.contains(r#"fitToHeight="0""#) && first.contains(r#"fitToPage="1""#));
    assert!(first.contains("&amp;P / &amp;N"), "page numbers in the footer");
    assert_eq!(first.matches(r#"ht="30""#).count(), 300, "every row high enough to sign in");
    assert!(first.contains(r#"<col min="10" max="10" width="22"#), "a wide signature column: {first}");
    let workbook = part(&book, "xl/workbook.xml");
    assert!(workbook.contains("_xlnm.Print_Titles"), "{workbook}");

    // The report's workbook: the verdict and the signatures.
    let report = dir.path().join("report.xlsx");
    run_ok(&["report", "--db", path_str(&db), "--session", SESSION, "--format", "xlsx", "--out", path_str(&report)]);
    let summary = sheet(&report, "Tổng hợp");
    assert!(summary.iter().any(|r| r[0] == "BÁO CÁO THẨM TRA TƯ CÁCH ĐẠI BIỂU"));
    assert!(summary.iter().any(|r| r[0] == "Trưởng ban Thẩm tra tư cách đại biểu"));
}

/// Rows above the first data row (title block and header): where the panes freeze.
fn header_of(list: &[Vec<String>]) -> usize {
    list.iter().position(|r| r[0] == "STT").unwrap() + 1
}

#[test]
fn the_hall_is_drawn_for_the_presidium_with_each_seat_present_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let (db, delegates) = congress(dir.path(), 160);
    let layout = dir.path().join("hall.toml");
    std::fs::write(
        &layout,
        "stage = \"Sân khấu\"\naisles_after_seat = [10, 20]\naisles_after_row = [\"E\"]\n\
         [[entrance]]\nname = \"Cửa chính\"\nside = \"back\"\nkiosks = [\"kiosk-1\"]\n",
    )
    .unwrap();
    let cfg = dir.path().join("k.toml");
    std::fs::write(&cfg, format!("[event]\nhall_layout = \"{}\"\n", layout.display())).unwrap();
    let at = ["--config", path_str(&cfg), "--db", path_str(&db), "--session", SESSION];

    let svg = dir.path().join("hall.svg");
    let said = run_ok(&[&["hall"][..], &at, &["--out", path_str(&svg)]].concat());
    assert!(said.contains("160 of 300 present"), "{said}");
    let text = std::fs::read_to_string(&svg).unwrap();
    let [r, g, b] = kiosk::secretariat::hall::Tone::Present.rgb();
    let green = format!("fill=\"#{r:02x}{g:02x}{b:02x}\"");
    // 160 seats and the legend's swatch.
    assert_eq!(text.matches(&green).count(), 161, "every present delegate's seat, and no other");
    assert!(text.contains(">Sân khấu<") && text.contains(">Cửa chính<") && text.contains(">Có mặt: 160<"));
    let rows: std::collections::BTreeSet<&str> = delegates.iter().map(|d| &d.seat[..1]).collect();
    assert_eq!(rows.len(), 10);
    for row in rows {
        assert!(text.contains(&format!(">{row}</text>")), "row {row} is labelled");
    }

    let pdf = dir.path().join("hall.pdf");
    run_ok(&[&["hall"][..], &at, &["--out", path_str(&pdf), "--lang", "en"]].concat());
    if poppler_ok("hall PDF") {
        let text = pdf_text(&pdf);
        assert!(text.contains("HALL PLAN") && text.contains("Present: 160") && text.contains("Absent: 140"), "{text}");
        assert_eq!(render(&pdf, "hall-plan"), 1, "one page");
    }

    // What goes wrong is said, with what to do.
    let o = kiosk(&[&["hall"][..], &at, &["--out", "hall.png"]].concat());
    assert!(!o.status.success() && stderr(&o).contains(".svg or .pdf"), "{}", stderr(&o));
    std::fs::write(&layout, "stage = 3\n").unwrap();
    let o = kiosk(&[&["hall"][..], &at, &["--out", path_str(&svg)]].concat());
    assert!(!o.status.success() && stderr(&o).contains("hall_layout"), "{}", stderr(&o));

    // Seats that follow no pattern: a list, never an error.
    let mut store = Store::open(&db).unwrap();
    store
        .transaction(|tx| {
            for (i, d) in delegates.iter().enumerate() {
                tx.upsert_delegate(&Delegate { seat: format!("Khu khách mời {i}"), ..d.clone() })?;
            }
            Ok(())
        })
        .unwrap();
    drop(store);
    std::fs::write(&cfg, "").unwrap();
    run_ok(&[&["hall"][..], &at, &["--out", path_str(&svg)]].concat());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains(">Khu khách mời 0<") && text.matches(&green).count() == 161, "a marked list");
}
