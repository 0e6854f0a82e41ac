//! A demo congress, so that a fresh install shows a working kiosk before any
//! roster exists. It has no photos (we have none we may give away): its
//! delegates are found with the search lane, or enrolled at the help desk.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::store::{Delegate, Store};

/// Printed with the demo: it opens the admin screen and the dashboard's clerk.
pub const PIN: &str = "2468";
pub const NAME: &str = "Đại hội Công đoàn thành phố (thử) — Demo congress";
pub const SESSIONS: [&str; 2] = ["Phiên khai mạc", "Phiên bầu cử"];
/// The demo hall's layout file (`hall.rs`): a stage, an aisle, two doors.
pub const HALL: &str = r#"stage = "Sân khấu · Đoàn Chủ tịch"
aisles_after_seat = [3]

[[entrance]]
name = "Cửa chính"
side = "back"
at = 0.3
kiosks = ["kiosk-1"]

[[entrance]]
name = "Cửa phụ"
side = "right"
at = 0.8
kiosks = ["kiosk-2"]
"#;

/// The delegations, shaped like a city union's congress: upper-level unions
/// (districts, sectors, industrial zones) and grassroots unions attached
/// directly; with their level and how many delegates each sends.
const DELEGATIONS: [(&str, &str, usize); 7] = [
    ("Liên đoàn Lao động quận Hải Châu", "cấp trên cơ sở", 6),
    ("Liên đoàn Lao động quận Thanh Khê", "cấp trên cơ sở", 5),
    ("Công đoàn ngành Giáo dục", "cấp trên cơ sở", 5),
    ("Công đoàn ngành Y tế", "cấp trên cơ sở", 4),
    ("Công đoàn các Khu công nghiệp và chế xuất", "cấp trên cơ sở", 4),
    ("Công đoàn cơ sở Công ty Cổ phần Dệt may Hòa Thọ", "cơ sở", 3),
    ("Công đoàn cơ sở Cảng Đà Nẵng", "cơ sở", 3),
];

const FAMILY: [&str; 14] =
    ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"];
const MIDDLE: [&str; 8] = ["Văn", "Thị", "Hữu", "Thị Thu", "Đức", "Ngọc", "Minh", "Thị Thanh"];
const GIVEN: [&str; 30] = [
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương", "Khánh", "Lan", "Linh",
    "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn",
    "Vân", "Yến",
];

/// The same 30 delegates every time: a demo is shown, not sampled.
pub fn delegates() -> Vec<Delegate> {
    let mut out = Vec::new();
    for (d, (delegation, level, count)) in DELEGATIONS.iter().enumerate() {
        for k in 0..*count {
            let i = out.len();
            let name = format!("{} {} {}", FAMILY[(i * 5) % FAMILY.len()], MIDDLE[i % MIDDLE.len()], GIVEN[i]);
            let role = if k == 0 { "Trưởng đoàn" } else { "Đại biểu" };
            let extra =
                BTreeMap::from([("role".to_string(), role.to_string()), ("level".to_string(), level.to_string())]);
            out.push(Delegate {
                code: format!("DB{:03}", i + 1),
                name,
                delegation: delegation.to_string(),
                seat: format!("{}-{:02}", (b'A' + d as u8) as char, k + 1),
                extra,
            });
        }
    }
    out
}

/// Writes the demo's delegates and sessions into `store`; again is harmless.
pub fn write(store: &mut Store) -> Result<usize> {
    let delegates = delegates();
    store.transaction(|tx| {
        for d in &delegates {
            tx.upsert_delegate(d)?;
        }
        for s in SESSIONS {
            tx.add_session(s, None, None)?;
        }
        tx.audit("demo", &serde_json::json!({"delegates": delegates.len()}).to_string())
    })?;
    Ok(delegates.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_delegates_with_distinct_codes_names_and_seats() {
        let all = delegates();
        assert_eq!(all.len(), 30);
        for field in [|d: &Delegate| d.code.clone(), |d: &Delegate| d.name.clone(), |d: &Delegate| d.seat.clone()] {
            let distinct: std::collections::BTreeSet<String> = all.iter().map(field).collect();
            assert_eq!(distinct.len(), all.len());
        }
        assert!(all.iter().any(|d| d.extra["level"] == "cơ sở"));
    }
}
