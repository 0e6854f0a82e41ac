//! What the papers the secretariat signs say, whatever they are printed on
//! (XLSX in `export.rs`, PDF in `pdf.rs`): the attendance list of a session
//! and the credentials committee's report, in the congress's language.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::secretariat::EventConfig;
use crate::store::time::{Timestamp, Zone};
use crate::store::{AuditHead, DelegationCount, ListRow, Method, overall, percent};
use crate::text::{Lang, collate};

/// Someone who signs the report: from `[[event.signatures]]` in the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signatory {
    pub role: String,
    /// Empty: the name is written by hand.
    #[serde(default)]
    pub name: String,
}

/// The words of the papers, in one language.
pub struct Words {
    pub list_title: &'static str,
    pub report_title: &'static str,
    pub session: &'static str,
    pub printed: &'static str,
    pub audit: &'static str,
    pub entries: &'static str,
    /// STT, code, name, delegation, seat, present/absent, time, method, kiosk.
    pub columns: [&'static str; 9],
    pub present: &'static str,
    pub absent: &'static str,
    pub summoned: &'static str,
    pub percent: &'static str,
    pub total: &'static str,
    pub by_delegation: &'static str,
    pub absent_title: &'static str,
    pub nobody_absent: &'static str,
    pub rule: &'static str,
    pub verdict: &'static str,
    pub met: &'static str,
    pub not_met: &'static str,
    pub page: &'static str,
    pub sign_here: &'static str,
    pub sheet_list: &'static str,
    pub sheet_summary: &'static str,
    pub sheet_absent: &'static str,
    pub hall_title: &'static str,
    /// The list's last column, left empty for the delegate's signature.
    pub sign: &'static str,
    /// The country and its motto, on the right of the document header.
    pub motto: [&'static str; 2],
}

const VI: Words = Words {
    list_title: "DANH SÁCH ĐẠI BIỂU ĐIỂM DANH",
    report_title: "BÁO CÁO THẨM TRA TƯ CÁCH ĐẠI BIỂU",
    session: "Phiên",
    printed: "In lúc",
    audit: "Nhật ký kiểm toán",
    entries: "mục, mã cuối",
    columns: ["STT", "Mã đại biểu", "Họ và tên", "Đoàn", "Ghế", "Có mặt / Vắng", "Giờ điểm danh", "Hình thức", "Kiosk"],
    present: "Có mặt",
    absent: "Vắng",
    summoned: "Triệu tập",
    percent: "Tỉ lệ có mặt",
    total: "Tổng cộng",
    by_delegation: "Theo đoàn",
    absent_title: "Đại biểu vắng mặt",
    nobody_absent: "Không có đại biểu vắng mặt.",
    rule: "Điều kiện: số đại biểu có mặt phải trên {p}% tổng số đại biểu được triệu tập.",
    verdict: "Kết luận",
    met: "Đủ điều kiện tiến hành",
    not_met: "Không đủ điều kiện tiến hành",
    page: "Trang",
    sign_here: "(Ký, ghi rõ họ tên)",
    sheet_list: "Danh sách",
    sheet_summary: "Tổng hợp",
    sheet_absent: "Vắng mặt",
    hall_title: "SƠ ĐỒ HỘI TRƯỜNG",
    sign: "Ký tên",
    motto: ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"],
};

const EN: Words = Words {
    list_title: "ATTENDANCE LIST OF DELEGATES",
    report_title: "CREDENTIALS REPORT",
    session: "Session",
    printed: "Printed",
    audit: "Audit log",
    entries: "entries, last hash",
    columns: [
        "No.",
        "Delegate code",
        "Full name",
        "Delegation",
        "Seat",
        "Present / Absent",
        "Check-in time",
        "Method",
        "Kiosk",
    ],
    present: "Present",
    absent: "Absent",
    summoned: "Summoned",
    percent: "Present %",
    total: "Total",
    by_delegation: "By delegation",
    absent_title: "Absent delegates",
    nobody_absent: "No delegate is absent.",
    rule: "Rule: more than {p}% of the summoned delegates must be present.",
    verdict: "Verdict",
    met: "Quorum met",
    not_met: "Quorum not met",
    page: "Page",
    sign_here: "(Signature and full name)",
    sheet_list: "List",
    sheet_summary: "Summary",
    sheet_absent: "Absent",
    hall_title: "HALL PLAN",
    sign: "Signature",
    motto: ["SOCIALIST REPUBLIC OF VIET NAM", "Independence - Freedom - Happiness"],
};

impl Lang {
    pub fn words(self) -> &'static Words {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// How a check-in was made, in words ("Thẻ + khuôn mặt").
    pub fn method(self, m: Method) -> &'static str {
        match (m, self) {
            (Method::Face, Lang::Vi) => "Khuôn mặt",
            (Method::Face, Lang::En) => "Face",
            (Method::Search, Lang::Vi) => "Tự tìm tên",
            (Method::Search, Lang::En) => "Name search",
            (Method::Manual, Lang::Vi) => "Cán bộ nhập",
            (Method::Manual, Lang::En) => "By staff",
            (Method::Badge, Lang::Vi) => "Thẻ + khuôn mặt",
            (Method::Badge, Lang::En) => "Badge + face",
            (Method::BadgeOnly, Lang::Vi) => "Chỉ thẻ",
            (Method::BadgeOnly, Lang::En) => "Badge only",
        }
    }

    /// 60,0% in Vietnamese, 60.0% in English.
    pub fn percent(self, value: f64) -> String {
        self.number(format!("{value:.1}%"))
    }

    /// "ngày 05 tháng 02 năm 2026" as Vietnamese documents write it (a day
    /// below 10 and the months 1 and 2 take a leading zero), "5 February 2026".
    pub fn long_date(self, date: NaiveDate) -> String {
        match self {
            Lang::Vi => {
                let month = if date.month() <= 2 { format!("{:02}", date.month()) } else { date.month().to_string() };
                format!("ngày {:02} tháng {month} năm {}", date.day(), date.year())
            }
            Lang::En => date.format("%-d %B %Y").to_string(),
        }
    }
}

/// "Ngày 05 tháng 12 năm 2026" at the head of a line.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// "attendance-phien_khai_mac.pdf": a file name any system and any browser
/// takes, still telling which session it is.
pub fn file_name(what: &str, session: &str, ext: &str) -> String {
    let session: String =
        crate::text::fold(session).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{what}-{session}.{ext}")
}

/// One delegation's line of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryLine {
    pub delegation: String,
    pub summoned: usize,
    pub present: usize,
    pub absent: usize,
    pub percent: f64,
}

impl SummaryLine {
    fn new(delegation: &str, present: usize, summoned: usize) -> Self {
        let percent = (percent(present, summoned) * 10.0).round() / 10.0;
        Self { delegation: delegation.into(), summoned, present, absent: summoned - present, percent }
    }
}

/// Everything a paper shows, computed once for every format.
pub struct Papers<'a> {
    pub lang: Lang,
    pub event: &'a str,
    pub session: &'a str,
    /// When printed, on the congress's clocks, with its offset.
    pub printed: String,
    pub head: &'a AuditHead,
    /// In Vietnamese order (given name first), as `attendance_list` gives them.
    pub rows: &'a [ListRow],
    pub by_delegation: Vec<SummaryLine>,
    pub total: SummaryLine,
    pub quorum_above_percent: f64,
    pub quorum_met: bool,
    pub signatures: &'a [Signatory],
    /// The issuing bodies (`[event] issuer`) for the document header, on
    /// the left of the country and its motto (`Words::motto`); empty: no header.
    pub issuer: &'a [String],
    /// "Hà Nội, ngày 16 tháng 10 năm 2023": place and the day printed.
    pub dated: String,
    zone: Zone,
}

impl<'a> Papers<'a> {
    pub fn new(
        lang: Lang,
        event: &'a EventConfig,
        session: &'a str,
        rows: &'a [ListRow],
        counts: &[DelegationCount],
        zone: Zone,
        head: &'a AuditHead,
    ) -> Self {
        let mut by_delegation: Vec<SummaryLine> =
            counts.iter().map(|c| SummaryLine::new(&c.delegation, c.present, c.total)).collect();
        by_delegation.sort_by(|a, b| collate::compare(&a.delegation, &b.delegation));
        let (present, summoned) = overall(counts);
        let now = zone.now().0;
        let printed = now.format("%d/%m/%Y %H:%M:%S (UTC%:z)").to_string();
        let day = lang.long_date(now.date_naive());
        let dated = if event.place.is_empty() { capitalised(&day) } else { format!("{}, {day}", event.place) };
        Self {
            lang,
            event: &event.name,
            session,
            printed,
            head,
            rows,
            by_delegation,
            total: SummaryLine::new(lang.words().total, present, summoned),
            quorum_above_percent: event.quorum_above_percent,
            quorum_met: event.quorum_met(present, summoned),
            signatures: &event.signatures,
            issuer: &event.issuer,
            dated,
            zone,
        }
    }

    pub fn words(&self) -> &'static Words {
        self.lang.words()
    }

    /// The lines under the title: session, time printed, audit head.
    pub fn title_block(&self) -> [String; 3] {
        let w = self.words();
        let head = if self.head.hash.is_empty() { "-" } else { &self.head.hash };
        [
            format!("{}: {}", w.session, self.session),
            format!("{}: {}", w.printed, self.printed),
            format!("{}: {} {} {head}", w.audit, self.head.count, w.entries),
        ]
    }

    /// "Triệu tập: 300 · Có mặt: 180 · Vắng: 120 · Tỉ lệ có mặt: 60,0%".
    pub fn summary_line(&self) -> String {
        let (w, t) = (self.words(), &self.total);
        format!(
            "{}: {} · {}: {} · {}: {} · {}: {}",
            w.summoned,
            t.summoned,
            w.present,
            t.present,
            w.absent,
            t.absent,
            w.percent,
            self.lang.percent(t.percent)
        )
    }

    pub fn rule(&self) -> String {
        self.words().rule.replace("{p}", &self.lang.number(self.quorum_above_percent.to_string()))
    }

    pub fn verdict(&self) -> String {
        let w = self.words();
        format!("{}: {}", w.verdict, if self.quorum_met { w.met } else { w.not_met })
    }

    /// One row of the list as its cells: STT first.
    pub fn list_cells(&self, index: usize, r: &ListRow) -> [String; 9] {
        let w = self.words();
        [
            (index + 1).to_string(),
            r.code.clone(),
            r.name.clone(),
            r.delegation.clone(),
            r.seat.clone(),
            if r.checked_in_at.is_some() { w.present } else { w.absent }.into(),
            r.checked_in_at.map(|t| self.time(&t)).unwrap_or_default(),
            r.method.map(|m| self.lang.method(m).to_string()).unwrap_or_default(),
            r.kiosk.clone().unwrap_or_default(),
        ]
    }

    fn time(&self, t: &Timestamp) -> String {
        self.zone.local(t).0.format("%H:%M:%S").to_string()
    }

    /// The absent delegates, delegation by delegation (Vietnamese order in each).
    pub fn absent(&self) -> Vec<(&'a str, Vec<&'a ListRow>)> {
        let mut groups: Vec<(&'a str, Vec<&'a ListRow>)> = Vec::new();
        let mut absent: Vec<&'a ListRow> = self.rows.iter().filter(|r| r.checked_in_at.is_none()).collect();
        // Stable: the names keep their Vietnamese order within a delegation.
        absent.sort_by(|a, b| collate::compare(&a.delegation, &b.delegation));
        for r in absent {
            match groups.last_mut() {
                Some((d, list)) if *d == r.delegation => list.push(r),
                _ => groups.push((&r.delegation, vec![r])),
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, name: &str, delegation: &str, present: bool) -> ListRow {
        ListRow {
            code: code.into(),
            name: name.into(),
            delegation: delegation.into(),
            seat: String::new(),
            checked_in_at: present.then(|| "2026-11-28T01:12:03.000+00:00".parse().unwrap()),
            method: present.then_some(Method::Face),
            kiosk: present.then(|| "cửa-1".into()),
        }
    }

    #[test]
    fn dates_are_written_as_vietnamese_documents_write_them() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(Lang::Vi.long_date(day(2023, 10, 16)), "ngày 16 tháng 10 năm 2023");
        assert_eq!(Lang::Vi.long_date(day(2026, 2, 5)), "ngày 05 tháng 02 năm 2026");
        assert_eq!(Lang::Vi.long_date(day(2026, 3, 5)), "ngày 05 tháng 3 năm 2026");
        assert_eq!(Lang::En.long_date(day(2026, 2, 5)), "5 February 2026");
        assert_eq!(capitalised("ngày 05 tháng 3 năm 2026"), "Ngày 05 tháng 3 năm 2026");
    }

    #[test]
    fn file_names_are_plain_ascii() {
        assert_eq!(file_name("attendance", "Phiên khai mạc", "pdf"), "attendance-phien_khai_mac.pdf");
        assert_eq!(file_name("credentials", "Đợt 2/3", "xlsx"), "credentials-dot_2_3.xlsx");
    }

    #[test]
    fn the_verdict_follows_the_rule_on_both_sides_and_absentees_are_grouped() {
        let event = EventConfig::default();
        let head = AuditHead { count: 3, hash: "ab".into() };
        let rows = vec![
            row("D2", "Trần Văn Bình", "Đoàn Huế", false),
            row("D1", "Nguyễn Thị An", "Đoàn Hà Nội", true),
            row("D3", "Lê Văn Cường", "Đoàn Hà Nội", false),
        ];
        let half = [
            DelegationCount { delegation: "Đoàn Huế".into(), present: 0, total: 1 },
            DelegationCount { delegation: "Đoàn Hà Nội".into(), present: 2, total: 3 },
        ];
        let zone = Zone::parse("Asia/Ho_Chi_Minh").unwrap();
        let p = Papers::new(Lang::Vi, &event, "Phiên 1", &rows, &half, zone, &head);
        assert!(!p.quorum_met, "2 of 4 is not more than half");
        assert_eq!(p.verdict(), "Kết luận: Không đủ điều kiện tiến hành");
        assert_eq!(p.summary_line(), "Triệu tập: 4 · Có mặt: 2 · Vắng: 2 · Tỉ lệ có mặt: 50,0%");
        assert_eq!(p.by_delegation[0].delegation, "Đoàn Hà Nội", "Vietnamese order: Hà before Huế");
        let more = [DelegationCount { delegation: "Đoàn Hà Nội".into(), present: 3, total: 5 }];
        let p = Papers::new(Lang::En, &event, "Phiên 1", &rows, &more, zone, &head);
        assert!(p.quorum_met, "3 of 5 is");
        assert_eq!(p.verdict(), "Verdict: Quorum met");
        assert_eq!(p.list_cells(0, &rows[1])[5..8], ["Present", "08:12:03", "Face"]);
        let absent = p.absent();
        assert_eq!(absent.len(), 2);
        assert_eq!((absent[0].0, absent[0].1[0].code.as_str()), ("Đoàn Hà Nội", "D3"));
    }
}
