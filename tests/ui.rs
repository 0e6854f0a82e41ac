//! The kiosk screens, driven through egui_kittest: what a person sees and
//! what their touches do, without a window or a camera.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kiosk::checkin::station::{Event, Update};
use kiosk::present::model::{Effect, Model, Screen};
use kiosk::present::ui::{Pictures, draw, install_fonts};
use kiosk::store::time::Zone;
use kiosk::store::{Delegate, Evidence};
use kiosk::text::Lang;

const EVIDENCE: Evidence = Evidence { score: 0.72, frames: 3 };

struct State {
    model: Model,
    pictures: Pictures,
    effects: Vec<Effect>,
}

fn delegates() -> Vec<Delegate> {
    [
        ("D001", "Nguyễn Văn An", "Đoàn Hà Nội", "A-12"),
        ("D002", "Nguyễn Thị Bình", "Đoàn Huế", "B-3"),
        ("D003", "Trần Đức Cường", "Đoàn Huế", "B-4"),
    ]
    .iter()
    .map(|(c, n, d, s)| Delegate {
        code: c.to_string(),
        name: n.to_string(),
        delegation: d.to_string(),
        seat: s.to_string(),
        ..Delegate::default()
    })
    .collect()
}

fn harness(lang: Lang) -> Harness<'static, State> {
    let model = Model::new(lang, "Đại hội Công đoàn", "Phiên khai mạc", delegates(), Duration::from_secs(5))
        .with_zone(Zone::parse("Asia/Ho_Chi_Minh").unwrap());
    let state = State { model, pictures: Pictures::default(), effects: Vec::new() };
    let mut h = Harness::builder().with_size([1280.0, 800.0]).with_context_setup(install_fonts).build_ui_state(
        |ui, state: &mut State| {
            for action in draw(ui, &state.model, &state.pictures) {
                if let Some(effect) = state.model.act(action, Instant::now()) {
                    state.effects.push(effect);
                }
            }
        },
        state,
    );
    h.run();
    h
}

fn update(event: Option<Event>) -> Update {
    let face = kiosk::BBox { x0: 200.0, y0: 100.0, x1: 320.0, y1: 260.0 };
    Update { frame_index: 0, faces: vec![face], guidance: None, event, processing: Duration::ZERO, roster: None }
}

#[test]
fn welcome_greets_by_name_delegation_and_seat_in_both_languages() {
    let mut h = harness(Lang::Vi);
    let welcome = Event::Welcome {
        delegate: delegates()[0].clone(),
        at: "2026-11-28T08:12:03.000+07:00".parse().unwrap(),
        already: false,
        latency_ms: 150,
        liveness_ms: 8.0,
        photo: None,
    };
    h.state_mut().model.on_update(&update(Some(welcome)), Instant::now());
    h.run();
    h.get_by_label("Chào mừng đại biểu");
    h.get_by_label("Nguyễn Văn An");
    h.get_by_label("Đoàn Hà Nội");
    h.get_by_label("Ghế: A-12");
    h.get_by_label("Thời gian: 08:12");
    h.get_by_label_contains("1/3 đã điểm danh");
    h.get_by_label("English").click();
    h.run();
    h.get_by_label("Welcome");
    h.get_by_label("Seat: A-12");
    h.get_by_label("Tiếng Việt");
}

#[test]
fn someone_already_checked_in_sees_when() {
    let mut h = harness(Lang::En);
    let again = Event::Welcome {
        delegate: delegates()[1].clone(),
        at: "2026-11-28T08:05:00.000+07:00".parse().unwrap(),
        already: true,
        latency_ms: 90,
        liveness_ms: 8.0,
        photo: None,
    };
    h.state_mut().model.on_update(&update(Some(again)), Instant::now());
    h.run();
    h.get_by_label("Already checked in at 08:05");
    h.get_by_label_contains("0/3 checked in");
}

#[test]
fn an_unknown_face_is_offered_the_search_lane_and_can_check_in_by_name() {
    let mut h = harness(Lang::Vi);
    h.state_mut().model.on_update(&update(Some(Event::Unknown)), Instant::now());
    h.run();
    h.get_by_label("Xin lỗi, hệ thống chưa nhận ra quý đại biểu");
    h.get_by_label("Tìm theo tên / mã đại biểu").click();
    h.run();
    assert_eq!(h.state().model.screen, Screen::Search);
    // "nguyen b" on the on-screen keyboard, no diacritics needed.
    for key in ["N", "G", "U", "Y", "E", "N"] {
        h.get_by_label(key).click();
        h.run();
    }
    h.get_by_label("Dấu cách").click();
    h.run();
    h.get_by_label("B").click();
    h.run();
    assert_eq!(h.state().model.query, "nguyen b");
    h.get_by_label("Xóa").click();
    h.run();
    assert_eq!(h.state().model.results.len(), 2, "both Nguyễn again");
    h.get_by_label("B").click();
    h.run();
    h.get_by_label_contains("Nguyễn Thị Bình").click();
    h.run();
    h.get_by_label("Điểm danh cho đại biểu này?");
    h.get_by_label("Xác nhận").click();
    h.run();
    assert_eq!(h.state().effects, [Effect::ManualCheckIn { code: "D002".into(), by_staff: false }]);
}

#[test]
fn guidance_and_the_camera_view_follow_the_frames() {
    let mut h = harness(Lang::En);
    let mut u = update(None);
    u.guidance = Some(kiosk::matching::agreement::Guidance::MoveCloser);
    h.state_mut().model.on_update(&u, Instant::now());
    h.run();
    assert_eq!(h.state().model.screen, Screen::Live);
    h.get_by_label("Please come closer");
    h.get_by_label("Find by name / delegate code");
    let mut gone = update(None);
    gone.faces.clear();
    h.state_mut().model.on_update(&gone, Instant::now());
    h.run();
    assert_eq!(h.state().model.screen, Screen::Idle);
    h.get_by_label("Please look at the camera");
}

#[test]
fn the_admin_screen_opens_only_with_the_pin_and_can_undo_and_switch_sessions() {
    use kiosk::base::pin::{hash_pin, verify_pin};
    use kiosk::checkin::staff::UndoReason;
    use kiosk::present::model::AdminView;
    use kiosk::store::{Attendance, DelegationCount};

    let hash = hash_pin("2468").unwrap();
    let view = AdminView {
        sessions: vec!["Phiên khai mạc".into(), "Phiên bế mạc".into()],
        counts: vec![
            DelegationCount { delegation: "Đoàn Hà Nội".into(), present: 1, total: 1 },
            DelegationCount { delegation: "Đoàn Huế".into(), present: 0, total: 2 },
        ],
        latest: vec![Attendance {
            code: "D001".into(),
            name: "Nguyễn Văn An".into(),
            delegation: "Đoàn Hà Nội".into(),
            at: "2026-11-28T08:12:00.000+07:00".parse().unwrap(),
            method: kiosk::store::Method::Face,
        }],
        papers: Vec::new(),
    };
    let mut h = harness(Lang::Vi);
    let submit = |h: &mut Harness<'static, State>, pin: &str| {
        h.get_by_label("Quản trị").click();
        h.run();
        for c in pin.chars() {
            h.get_by_label(&c.to_string()).click();
            h.run();
        }
        h.get_by_label("OK").click();
        h.run();
        let Some(Effect::CheckPin(entered)) = h.state_mut().effects.pop() else { panic!("no PIN check") };
        let ok = verify_pin(&entered, &hash);
        h.state_mut().model.on_pin_checked(ok.then(|| view.clone()));
        h.run();
    };
    submit(&mut h, "1357");
    assert_eq!(h.state().model.screen, Screen::Pin);
    h.get_by_label_contains("Sai mã PIN");
    submit(&mut h, "2468");
    assert_eq!(h.state().model.screen, Screen::Admin);
    h.get_by_label("Đoàn Huế");
    h.get_by_label("0/2");
    h.get_by_label_contains("Nguyễn Văn An");
    h.get_by_label("Hủy: nhận nhầm người").click();
    h.run();
    assert_eq!(h.state().effects, [Effect::Undo { code: "D001".into(), reason: UndoReason::WrongPerson }]);
    h.get_by_label("Phiên bế mạc").click();
    h.run();
    assert_eq!(h.state().effects[1], Effect::SwitchSession("Phiên bế mạc".into()));
    h.get_by_label("In danh sách và báo cáo (PDF)").click();
    h.run();
    assert_eq!(h.state().effects[2], Effect::PrintPapers);
    h.state_mut().model.on_papers(vec!["/srv/papers/attendance-phien_be_mac.pdf".into()]);
    h.run();
    h.get_by_label_contains("Đã lưu: /srv/papers/attendance-phien_be_mac.pdf");
    h.get_by_label("Đóng").click();
    h.run();
    assert_eq!(h.state().model.screen, Screen::Idle);
    assert!(h.state().model.admin.is_none(), "closing the admin screen locks it again");
    // The help desk's keyboard: Escape closes it too.
    submit(&mut h, "2468");
    assert_eq!(h.state().model.screen, Screen::Admin);
    h.key_press(eframe::egui::Key::Escape);
    h.run();
    assert_eq!(h.state().model.screen, Screen::Idle);
    assert!(h.state().model.admin.is_none());
}

#[test]
fn a_lookalike_types_their_code_and_is_never_shown_who_they_might_be() {
    let mut h = harness(Lang::En);
    let ask = Event::AskCode { candidates: vec![delegates()[0].clone(), delegates()[1].clone()], evidence: EVIDENCE };
    h.state_mut().model.on_update(&update(Some(ask)), Instant::now());
    h.run();
    h.get_by_label("Please type your delegate code to confirm");
    for name in ["Nguyễn Văn An", "Nguyễn Thị Bình"] {
        assert!(h.query_by_label_contains(name).is_none(), "{name} is shown to whoever stands there");
    }
    // A wrong code first: told so, nothing recorded.
    for key in ["D", "0", "0", "3"] {
        h.get_by_label(key).click();
        h.run();
    }
    h.get_by_label("D003");
    h.get_by_label("Confirm").click();
    h.run();
    h.get_by_label("That code does not match; please try again");
    assert!(h.state().effects.is_empty());
    assert!(h.query_by_label_contains("Nguyễn").is_none(), "typing shows no search results here");
    for key in ["D", "0", "0", "2"] {
        h.get_by_label(key).click();
        h.run();
    }
    h.get_by_label("Confirm").click();
    h.run();
    assert_eq!(h.state().effects, [Effect::CodeConfirmed { code: "D002".into(), evidence: EVIDENCE }]);
}

/// A check-in that could not be written is a real message on the screen,
/// not "No camera", and it sends the person to the help desk.
#[test]
fn a_check_in_that_was_not_recorded_says_so_in_both_languages() {
    let mut h = harness(Lang::En);
    let failed = Event::NotRecorded { error: "database kiosk.db is locked by another program".into() };
    h.state_mut().model.on_update(&update(Some(failed)), Instant::now());
    h.run();
    h.get_by_label("Sorry, your check-in could not be recorded");
    h.get_by_label("Please go to the help desk to be checked in.");
    assert!(h.query_by_label("No camera — check-in by name still works").is_none());
    h.get_by_label("Tiếng Việt").click();
    h.run();
    h.get_by_label("Xin lỗi, chưa ghi nhận được điểm danh");
}

/// The liveness check's screens: a challenge says what to do; a refusal
/// names no one, offers the help desk and not the search lane.
#[test]
fn a_face_taken_for_a_picture_is_turned_away_politely_without_a_name() {
    let mut h = harness(Lang::Vi);
    h.state_mut().model.on_update(&update(Some(Event::Challenge)), Instant::now());
    h.run();
    h.get_by_label("Xin quay đầu nhẹ sang trái hoặc phải, rồi nhìn lại camera");
    h.state_mut().model.on_update(&update(Some(Event::NotLive)), Instant::now());
    h.run();
    h.get_by_label("Chưa xác nhận được");
    h.get_by_label("Xin mời quý đại biểu đến bàn hỗ trợ, cán bộ sẽ điểm danh giúp.");
    for d in delegates() {
        assert!(h.query_by_label_contains(&d.name).is_none(), "{} named on a refusal", d.name);
    }
    assert!(h.query_by_label("Tìm theo tên / mã đại biểu").is_none(), "no search lane for a picture");
    h.get_by_label("English").click();
    h.run();
    h.get_by_label("We could not confirm your check-in");
    h.get_by_label("Please go to the help desk; the staff there will check you in.");
}

/// Badges: the waiting, search and code screens say a badge's QR code
/// checks in too; an invalid badge is said, with the search lane; a stolen
/// badge (or one whose delegate has no face) is turned away without a name.
#[test]
fn badge_screens_say_what_to_do_and_name_no_one_on_a_refusal() {
    let mut h = harness(Lang::Vi);
    h.get_by_label("Xin mời nhìn vào camera");
    assert!(h.query_by_label("— hoặc đưa mã QR trên thẻ đại biểu").is_none(), "no badges issued: no badge hint");
    h.state_mut().model.badges = true;
    h.run();
    h.get_by_label("— hoặc đưa mã QR trên thẻ đại biểu");
    let problem = kiosk::checkin::badge::Problem::Replaced;
    h.state_mut().model.on_update(&update(Some(Event::BadgeInvalid { problem })), Instant::now());
    h.run();
    h.get_by_label("Thẻ không hợp lệ");
    h.get_by_label("Xin mời nhìn vào camera, hoặc tìm theo tên / mã đại biểu.");
    h.get_by_label("Tìm theo tên / mã đại biểu").click();
    h.run();
    assert_eq!(h.state().model.screen, Screen::Search);
    h.get_by_label("— hoặc đưa mã QR trên thẻ đại biểu");
    h.get_by_label("Hủy").click();
    h.run();
    h.state_mut().model.on_update(&update(Some(Event::BadgeRefused)), Instant::now());
    h.run();
    h.get_by_label("Chưa xác nhận được");
    for d in delegates() {
        assert!(h.query_by_label_contains(&d.name).is_none(), "{} named on a refusal", d.name);
    }
    assert!(h.query_by_label("Tìm theo tên / mã đại biểu").is_none(), "a stolen badge goes to the help desk");
    h.get_by_label("English").click();
    h.run();
    h.get_by_label("We could not confirm your check-in");
}

#[test]
fn staff_enrol_a_face_at_the_desk_seeing_whom_it_looks_like_first() {
    use kiosk::checkin::enrolment::{Candidate, Captured};
    use kiosk::present::model::AdminView;

    let mut h = harness(Lang::Vi);
    h.state_mut()
        .model
        .on_pin_checked(Some(AdminView { sessions: vec!["Phiên khai mạc".into()], ..AdminView::default() }));
    h.run();
    h.get_by_label("Đăng ký khuôn mặt").click();
    h.run();
    h.get_by_label_contains("Đăng ký khuôn mặt cho đại biểu nào?");
    for c in "Bình".chars() {
        h.state_mut().model.act(kiosk::present::model::Action::Type(c), Instant::now());
    }
    h.run();
    h.get_by_label_contains("Nguyễn Thị Bình").click();
    h.run();
    let binh = delegates()[1].clone();
    assert_eq!(h.state().effects, [Effect::CaptureFace(binh.clone())]);
    assert_eq!(h.state().model.screen, Screen::Capturing { delegate: binh.clone() });
    h.get_by_label_contains("Xin mời nhìn thẳng vào camera");

    // Nothing usable first: said, and tried again.
    let nothing = Event::Captured(Box::new(Captured::NoGoodFrame));
    h.state_mut().model.on_update(&update(Some(nothing)), Instant::now());
    h.run();
    h.get_by_label_contains("Không có ảnh đạt yêu cầu");
    h.get_by_label("Chụp lại").click();
    h.run();
    assert_eq!(h.state().effects[1], Effect::CaptureFace(binh.clone()));

    let template = kiosk::store::NewTemplate {
        photo_sha256: "00".repeat(32),
        embedding: vec![0.0; 128],
        quality: kiosk::vision::quality::Quality { eye_distance: 60.0, sharpness: 90.0, yaw: 0.05, brightness: 120.0 },
        thumbnail: Vec::new(),
    };
    let candidate = Candidate {
        delegate: binh.clone(),
        model: "sface-128-v1".into(),
        template,
        face: Arc::new(image::RgbImage::new(180, 240)),
        lookalike: Some((delegates()[2].clone(), 0.51)),
    };
    let face = Event::Captured(Box::new(Captured::Face(Box::new(candidate.clone()))));
    h.state_mut().model.on_update(&update(Some(face)), Instant::now());
    h.run();
    h.get_by_label("Đây có đúng là đại biểu này không?");
    h.get_by_label_contains("Cảnh báo: rất giống đại biểu Trần Đức Cường (D003, 0.51)");
    h.get_by_label("Đúng, đăng ký").click();
    h.run();
    assert_eq!(h.state().effects[2], Effect::EnrolFace(Box::new(candidate)));
    h.state_mut().model.on_enrolled(binh);
    h.run();
    assert_eq!(h.state().model.desk_done, Some(kiosk::present::model::DeskDone::FaceEnrolled(delegates()[1].clone())));
    assert_eq!(h.state().model.screen, Screen::Admin);
    h.get_by_label_contains("Đã đăng ký khuôn mặt: Nguyễn Thị Bình (D002)");
}

#[test]
fn a_face_captured_when_nobody_asked_changes_nothing() {
    let mut h = harness(Lang::En);
    let nothing = Event::Captured(Box::new(kiosk::checkin::enrolment::Captured::NoGoodFrame));
    h.state_mut().model.on_update(&update(Some(nothing)), Instant::now());
    h.run();
    assert_eq!(h.state().model.screen, Screen::Live);
    // Without the admin screen open, the enrolment actions do nothing.
    assert_eq!(h.state_mut().model.act(kiosk::present::model::Action::EnrolFace, Instant::now()), None);
    assert_eq!(h.state().model.screen, Screen::Live);
}

#[test]
fn staff_add_a_delegate_missing_from_the_roster() {
    use kiosk::present::model::{Action, AdminView, DeskDone};

    let mut h = harness(Lang::Vi);
    h.state_mut()
        .model
        .on_pin_checked(Some(AdminView { sessions: vec!["Phiên khai mạc".into()], ..AdminView::default() }));
    h.run();
    h.get_by_label("Thêm đại biểu").click();
    h.run();
    h.get_by_label("Xác nhận").click();
    h.run();
    h.get_by_label("Cần có mã và họ tên");
    let type_in = |h: &mut Harness<'static, State>, field: usize, text: &str| {
        h.state_mut().model.act(Action::Focus(field), Instant::now());
        for c in text.chars() {
            h.state_mut().model.act(Action::Type(c), Instant::now());
        }
        h.run();
    };
    type_in(&mut h, 0, "d001");
    type_in(&mut h, 1, "Phạm Thị Lụa");
    h.get_by_label("Xác nhận").click();
    h.run();
    h.get_by_label("Mã này đã có đại biểu khác dùng");
    assert!(h.state().effects.is_empty(), "nothing is sent while the form is wrong");
    h.get_by_label("Mã: d001").click();
    h.run();
    for _ in 0..4 {
        h.get_by_label("Xóa").click();
        h.run();
    }
    type_in(&mut h, 0, "D031");
    type_in(&mut h, 2, "Công đoàn cơ sở Cảng Đà Nẵng");
    type_in(&mut h, 3, "G-04");
    h.get_by_label("Xác nhận").click();
    h.run();
    let added = kiosk::store::Delegate {
        code: "D031".into(),
        name: "Phạm Thị Lụa".into(),
        delegation: "Công đoàn cơ sở Cảng Đà Nẵng".into(),
        seat: "G-04".into(),
        ..Default::default()
    };
    assert_eq!(h.state().effects, [Effect::AddDelegate(added.clone())]);
    h.state_mut().model.on_delegate_added(added.clone());
    h.run();
    assert_eq!(h.state().model.desk_done, Some(DeskDone::DelegateAdded(added)));
    h.get_by_label_contains("Đã thêm đại biểu: Phạm Thị Lụa (D031)");
    assert_eq!(h.state().model.total, 4);
}
