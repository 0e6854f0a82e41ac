//! What the kiosk screen shows and how it reacts to people and frames, with
//! no window involved: the UI only draws this and sends it `Action`s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;

use crate::checkin::enrolment::{Candidate, Captured};
use crate::checkin::staff::UndoReason;
use crate::checkin::station::{Event, Update};
use crate::matching::agreement::Guidance;
use crate::secretariat::hall::{Drawing, Hall, Layout, Plan, Tone, seat_of};
use crate::secretariat::lookup;
use crate::store::time::{Timestamp, Zone};
use crate::store::{Attendance, Delegate, DelegationCount, Evidence};
use crate::text::{Lang, same_code};
use crate::vision::face::BBox;

/// Something wrong that the screen must say, beside what it shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// No camera, or it stopped: the search lane still works.
    Camera(String),
    /// The face pipeline failed on a frame.
    Recognition(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Nobody in front of the camera.
    Idle,
    /// Someone is there; recognition is under way.
    Live,
    Welcome {
        delegate: Delegate,
        at: Timestamp,
        already: bool,
        until: Instant,
        photo: Option<Arc<RgbImage>>,
        /// The hall with the delegate's seat highlighted, when the seat is on the plan.
        plan: Option<Arc<Drawing>>,
    },
    /// Not recognised: a polite message and the way to the search lane.
    Unknown {
        until: Instant,
    },
    /// The face may be a picture: the person is asked to turn their head.
    Challenge,
    /// Refused: a picture of a face, a badge shown with another face, a
    /// badge whose delegate has no face enrolled. A neutral message that
    /// names no one, and the way to the help desk (not the search lane).
    Refused {
        until: Instant,
    },
    /// A QR code that is not a valid badge: said, and the face still counts.
    BadgeInvalid {
        until: Instant,
    },
    /// Recognised or chosen, but the check-in could not be written: the
    /// person is sent to the help desk, nothing was recorded.
    NotRecorded {
        until: Instant,
        error: String,
    },
    Search,
    Confirm {
        delegate: Delegate,
    },
    /// A face that could be one of several lookalike delegates: the person
    /// types their delegate code. `wrong` counts the codes that matched none.
    AskCode {
        candidates: Vec<Delegate>,
        evidence: Evidence,
        wrong: u8,
    },
    /// Staff only: the PIN pad, then the admin screen.
    Pin,
    Admin,
    /// Staff asked for this delegate's face: they look at the camera.
    Capturing {
        delegate: Delegate,
    },
    /// The face captured (or why none was), for staff to approve or retake.
    Approve {
        delegate: Delegate,
        captured: Box<Captured>,
    },
    /// Staff add a delegate missing from the roster.
    NewDelegate {
        form: DelegateForm,
    },
}

/// A delegate typed in at the help desk: code, name, delegation, seat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DelegateForm {
    pub fields: [String; 4],
    /// The field the keys type into.
    pub focus: usize,
    pub problem: Option<FormProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    /// A code and a name are needed.
    Missing,
    /// Another delegate has this code.
    CodeTaken,
}

impl DelegateForm {
    /// The delegate, or what is wrong with the form; `roster`: the delegates there are.
    fn delegate(&self, roster: &[Delegate]) -> Result<Delegate, FormProblem> {
        let [code, name, delegation, seat] = self.fields.clone().map(|f| crate::text::normalize(f.trim()).0);
        if code.is_empty() || name.is_empty() {
            return Err(FormProblem::Missing);
        }
        if roster.iter().any(|d| same_code(&code, &d.code)) {
            return Err(FormProblem::CodeTaken);
        }
        Ok(Delegate { code, name, delegation, seat, ..Delegate::default() })
    }
}

/// Done at the help desk.
#[derive(Debug, Clone, PartialEq)]
pub enum DeskDone {
    FaceEnrolled(Delegate),
    DelegateAdded(Delegate),
}

/// Who the search lane is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchFor {
    /// A delegate checking themselves in.
    Delegate,
    /// Staff checking someone in from the admin screen.
    StaffCheckIn,
    /// Staff choosing whose face to enrol.
    Enrolment,
}

/// What the admin screen shows, loaded from the store when it opens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminView {
    pub sessions: Vec<String>,
    pub counts: Vec<DelegationCount>,
    pub latest: Vec<Attendance>,
    /// The papers just printed from this screen (the files written).
    pub papers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ToggleLanguage,
    OpenSearch,
    Type(char),
    Backspace,
    Pick(String),
    Confirm,
    Cancel,
    OpenAdmin,
    SubmitPin,
    SelectSession(String),
    StaffCheckIn,
    PrintPapers,
    Undo {
        code: String,
        reason: UndoReason,
    },
    /// Staff: enrol a delegate's face with the kiosk's camera (the search picks whom).
    EnrolFace,
    /// Staff: the captured face is this delegate's; enrol it.
    Approve,
    /// Staff: capture the face again.
    Retake,
    /// Staff: add a delegate missing from the roster.
    AddDelegate,
    /// The field of the new delegate's form the keys type into.
    Focus(usize),
}

/// Work the model asks of the application (it owns the store).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// From the search lane; `by_staff` when an admin made it.
    ManualCheckIn {
        code: String,
        by_staff: bool,
    },
    /// A lookalike delegate typed their own code; `evidence` is what the camera saw.
    CodeConfirmed {
        code: String,
        evidence: Evidence,
    },
    CheckPin(String),
    SwitchSession(String),
    Undo {
        code: String,
        reason: UndoReason,
    },
    /// The ledger brought check-ins from other kiosks: the header's figures again.
    Recount,
    /// The session's attendance list and credentials report, as PDF files.
    PrintPapers,
    /// The help desk asks the camera for this delegate's face.
    CaptureFace(Delegate),
    /// Staff approved the face: enrol it.
    EnrolFace(Box<Candidate>),
    /// Staff typed in a delegate missing from the roster.
    AddDelegate(Delegate),
}

pub struct Model {
    pub lang: Lang,
    pub event_name: String,
    pub session: String,
    pub screen: Screen,
    pub faces: Vec<BBox>,
    pub guidance: Option<Guidance>,
    pub checked_in: usize,
    pub total: usize,
    pub query: String,
    pub results: Vec<Delegate>,
    pub problem: Option<Problem>,
    /// The congress's clocks, for the times shown.
    pub zone: Zone,
    pub pin: String,
    pub pin_rejected: bool,
    /// Refused because too many wrong PINs came before.
    pub pin_shut_out: bool,
    pub admin: Option<AdminView>,
    /// With a shared ledger: whether it is reachable, and the check-ins waiting for it.
    pub link: Option<(bool, usize)>,
    /// Badges were issued: the screens say a badge's QR code checks in too.
    pub badges: bool,
    /// What the help desk just did, for the admin screen to say.
    pub desk_done: Option<DeskDone>,
    search_for: SearchFor,
    delegates: Vec<Delegate>,
    welcome_for: Duration,
    last_touch: Instant,
    /// The hall's layout and this kiosk's id (to mark its entrance), and the
    /// plan the roster's seats draw with them, drawn again when the roster changes.
    hall: Option<(Layout, String)>,
    plan: Option<Plan>,
}

const SEARCH_RESULTS: usize = 6;

/// Wrong codes before the lookalike check sends the person to the help desk.
pub const CODE_ATTEMPTS: u8 = 3;

/// A screen someone was busy with goes back to the camera after this long
/// untouched: a delegate who walked away, staff who forgot to close the admin screen.
pub const LEFT_ALONE: Duration = Duration::from_secs(60);

impl Model {
    pub fn new(lang: Lang, event_name: &str, session: &str, delegates: Vec<Delegate>, welcome_for: Duration) -> Self {
        Self {
            lang,
            event_name: event_name.into(),
            session: session.into(),
            screen: Screen::Idle,
            faces: Vec::new(),
            guidance: None,
            checked_in: 0,
            total: delegates.len(),
            query: String::new(),
            results: Vec::new(),
            problem: None,
            zone: Zone::default(),
            pin: String::new(),
            pin_rejected: false,
            pin_shut_out: false,
            admin: None,
            link: None,
            badges: false,
            desk_done: None,
            search_for: SearchFor::Delegate,
            delegates,
            welcome_for,
            last_touch: Instant::now(),
            hall: None,
            plan: None,
        }
    }

    /// The welcome shows where the seat is on `plan`, with `kiosk`'s entrance.
    pub fn with_hall(mut self, layout: Layout, kiosk: &str) -> Self {
        self.hall = Some((layout, kiosk.to_string()));
        self.draw_hall();
        self
    }

    /// The plan of the roster's seats: a delegate added at the help desk has theirs on it.
    fn draw_hall(&mut self) {
        self.plan = self
            .hall
            .as_ref()
            .and_then(|(layout, _)| Hall::new(self.delegates.iter().map(|d| d.seat.as_str()), layout).plan().cloned());
    }

    /// The hall with `seat` highlighted, the stage and this kiosk's entrance.
    fn seat_plan(&self, seat: &str) -> Option<Arc<Drawing>> {
        let (plan, (_, kiosk)) = (self.plan.as_ref()?, self.hall.as_ref()?);
        let (row, number) = seat_of(seat)?;
        plan.place(seat)?;
        let tone = |r: &str, n: u32| if r == row && n == number { Tone::Yours } else { Tone::Seat };
        Some(Arc::new(plan.draw(&tone, false, Some(kiosk))))
    }

    pub fn with_zone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// A processed frame arrived from the recognition thread.
    pub fn on_update(&mut self, update: &Update, now: Instant) {
        self.faces = update.faces.clone();
        self.guidance = update.guidance;
        if let Some(roster) = &update.roster {
            self.delegates = roster.clone();
            self.draw_hall();
        }
        self.problem = None;
        match &update.event {
            Some(Event::Captured(captured)) if matches!(self.screen, Screen::Capturing { .. }) => {
                if let Screen::Capturing { delegate } = &self.screen {
                    self.screen = Screen::Approve { delegate: delegate.clone(), captured: captured.clone() };
                }
            }
            Some(Event::Welcome { delegate, at, already, photo, .. }) => {
                self.on_check_in(delegate.clone(), *at, *already, photo.clone(), now);
            }
            Some(Event::NotRecorded { error }) => self.on_not_recorded(error.clone(), now),
            Some(Event::Unknown) if !self.is_busy() => {
                self.screen = Screen::Unknown { until: now + self.welcome_for * 2 }
            }
            Some(Event::Challenge) if !self.is_busy() => self.screen = Screen::Challenge,
            Some(Event::NotLive | Event::BadgeRefused) if !self.is_busy() => {
                self.screen = Screen::Refused { until: now + self.welcome_for * 2 }
            }
            Some(Event::BadgeInvalid { .. }) if !self.is_busy() => {
                self.screen = Screen::BadgeInvalid { until: now + self.welcome_for }
            }
            Some(Event::AskCode { candidates, evidence }) if !self.is_busy() => {
                self.query.clear();
                self.last_touch = now;
                self.screen = Screen::AskCode { candidates: candidates.clone(), evidence: *evidence, wrong: 0 };
            }
            _ => match self.screen {
                Screen::Idle | Screen::Live => {
                    self.screen = if self.faces.is_empty() { Screen::Idle } else { Screen::Live };
                }
                // The person left before turning: the kiosk forgot them too.
                Screen::Challenge if self.faces.is_empty() => self.screen = Screen::Idle,
                _ => {}
            },
        }
    }

    /// Timed screens go back to the camera view, and busy ones left alone too.
    pub fn tick(&mut self, now: Instant) {
        let expired = match &self.screen {
            Screen::Welcome { until, .. }
            | Screen::Unknown { until }
            | Screen::Refused { until }
            | Screen::BadgeInvalid { until }
            | Screen::NotRecorded { until, .. } => now >= *until,
            _ => false,
        };
        if expired {
            self.screen = if self.faces.is_empty() { Screen::Idle } else { Screen::Live };
        }
        if self.is_busy() && now.saturating_duration_since(self.last_touch) >= LEFT_ALONE {
            self.leave();
        }
    }

    /// Screens a person is busy with: recognition events do not interrupt them.
    fn is_busy(&self) -> bool {
        matches!(
            self.screen,
            Screen::Search
                | Screen::Confirm { .. }
                | Screen::AskCode { .. }
                | Screen::Pin
                | Screen::Admin
                | Screen::Capturing { .. }
                | Screen::Approve { .. }
                | Screen::NewDelegate { .. }
        )
    }

    /// Back to the camera, forgetting what was typed and any admin rights.
    fn leave(&mut self) {
        self.pin.clear();
        self.query.clear();
        self.admin = None;
        self.desk_done = None;
        self.search_for = SearchFor::Delegate;
        self.screen = Screen::Idle;
    }

    /// A touch (or key) at `now`.
    pub fn act(&mut self, action: Action, now: Instant) -> Option<Effect> {
        self.last_touch = now;
        match action {
            Action::ToggleLanguage => self.lang = self.lang.other(),
            Action::OpenSearch => self.open_search(SearchFor::Delegate),
            Action::Type(c) if self.screen == Screen::Pin => {
                if c.is_ascii_digit() && self.pin.len() < 12 {
                    self.pin.push(c);
                }
            }
            Action::Type(c) => match &mut self.screen {
                Screen::NewDelegate { form } => form.fields[form.focus].push(c),
                _ => {
                    self.query.push(c);
                    self.refresh_results();
                }
            },
            Action::Backspace if self.screen == Screen::Pin => {
                self.pin.pop();
            }
            Action::Backspace => match &mut self.screen {
                Screen::NewDelegate { form } => {
                    form.fields[form.focus].pop();
                }
                _ => {
                    self.query.pop();
                    self.refresh_results();
                }
            },
            Action::Focus(field) => {
                if let Screen::NewDelegate { form } = &mut self.screen {
                    form.focus = field.min(form.fields.len() - 1);
                }
            }
            Action::Pick(code) => {
                let delegate = self.delegates.iter().find(|d| d.code == code)?.clone();
                if self.search_for == SearchFor::Enrolment && self.admin.is_some() {
                    self.screen = Screen::Capturing { delegate: delegate.clone() };
                    return Some(Effect::CaptureFace(delegate));
                }
                self.screen = Screen::Confirm { delegate };
            }
            Action::Confirm => match &mut self.screen {
                Screen::NewDelegate { form } if self.admin.is_some() => match form.delegate(&self.delegates) {
                    Ok(delegate) => return Some(Effect::AddDelegate(delegate)),
                    Err(problem) => form.problem = Some(problem),
                },
                Screen::Confirm { delegate } => {
                    let by_staff = self.search_for == SearchFor::StaffCheckIn;
                    return Some(Effect::ManualCheckIn { code: delegate.code.clone(), by_staff });
                }
                Screen::AskCode { candidates, evidence, wrong } => {
                    if let Some(d) = candidates.iter().find(|d| same_code(&self.query, &d.code)) {
                        return Some(Effect::CodeConfirmed { code: d.code.clone(), evidence: *evidence });
                    }
                    *wrong += 1;
                    self.query.clear();
                    if *wrong >= CODE_ATTEMPTS {
                        self.screen = Screen::Unknown { until: now + self.welcome_for * 2 };
                    }
                }
                _ => {}
            },
            // Staff leaving an enrolment or the form go back to the admin screen, not to the camera.
            Action::Cancel
                if self.admin.is_some()
                    && (self.search_for == SearchFor::Enrolment
                        || matches!(self.screen, Screen::NewDelegate { .. })) =>
            {
                self.search_for = SearchFor::Delegate;
                self.screen = Screen::Admin;
            }
            Action::Cancel => self.leave(),
            Action::OpenAdmin => {
                self.pin.clear();
                self.pin_rejected = false;
                self.pin_shut_out = false;
                self.screen = Screen::Pin;
            }
            Action::SubmitPin => return Some(Effect::CheckPin(std::mem::take(&mut self.pin))),
            Action::SelectSession(name) if self.admin.is_some() => return Some(Effect::SwitchSession(name)),
            Action::StaffCheckIn if self.admin.is_some() => self.open_search(SearchFor::StaffCheckIn),
            Action::EnrolFace if self.admin.is_some() => {
                self.desk_done = None;
                self.open_search(SearchFor::Enrolment);
            }
            Action::AddDelegate if self.admin.is_some() => {
                self.desk_done = None;
                self.screen = Screen::NewDelegate { form: DelegateForm::default() };
            }
            Action::Approve => {
                if let Screen::Approve { captured, .. } = &self.screen
                    && let Captured::Face(candidate) = captured.as_ref()
                    && self.admin.is_some()
                {
                    return Some(Effect::EnrolFace(candidate.clone()));
                }
            }
            Action::Retake => {
                if let Screen::Approve { delegate, .. } = &self.screen
                    && self.admin.is_some()
                {
                    let delegate = delegate.clone();
                    self.screen = Screen::Capturing { delegate: delegate.clone() };
                    return Some(Effect::CaptureFace(delegate));
                }
            }
            Action::PrintPapers if self.admin.is_some() => return Some(Effect::PrintPapers),
            Action::Undo { code, reason } if self.admin.is_some() => return Some(Effect::Undo { code, reason }),
            Action::SelectSession(_)
            | Action::StaffCheckIn
            | Action::PrintPapers
            | Action::Undo { .. }
            | Action::EnrolFace
            | Action::AddDelegate => {}
        }
        None
    }

    fn open_search(&mut self, search_for: SearchFor) {
        self.query.clear();
        self.results.clear();
        self.search_for = search_for;
        self.screen = Screen::Search;
    }

    /// The desk added the delegate: the search finds them, and the admin
    /// screen says so (their face is enrolled next, with Enrol a face).
    pub fn on_delegate_added(&mut self, delegate: Delegate) {
        self.delegates.push(delegate.clone());
        self.total += 1;
        self.back_to_admin(DeskDone::DelegateAdded(delegate));
    }

    /// Staff are choosing, capturing or approving a face to enrol.
    pub fn enrolling(&self) -> bool {
        self.search_for == SearchFor::Enrolment
    }

    /// The desk enrolled the face staff approved: back to the admin screen, which says so.
    pub fn on_enrolled(&mut self, delegate: Delegate) {
        self.back_to_admin(DeskDone::FaceEnrolled(delegate));
    }

    fn back_to_admin(&mut self, done: DeskDone) {
        self.search_for = SearchFor::Delegate;
        self.desk_done = Some(done);
        self.screen = Screen::Admin;
    }

    /// The application checked the PIN; `view` is the admin data when it was right.
    pub fn on_pin_checked(&mut self, view: Option<AdminView>) {
        self.pin_rejected = view.is_none();
        self.pin_shut_out = false;
        if view.is_some() {
            self.screen = Screen::Admin;
        }
        self.admin = view;
    }

    /// Too many wrong PINs were typed: the screen says to wait.
    pub fn on_pin_shut_out(&mut self) {
        self.pin_rejected = true;
        self.pin_shut_out = true;
    }

    /// Fresh admin data (after a session switch, an undo or a staff check-in).
    /// The desk wrote the papers: the admin screen says where.
    pub fn on_papers(&mut self, files: Vec<String>) {
        if let Some(view) = &mut self.admin {
            view.papers = files;
        }
    }

    pub fn on_admin_refreshed(&mut self, session: &str, view: AdminView) {
        self.session = session.to_string();
        self.set_counts(&view.counts);
        self.admin = Some(view);
        if self.search_for == SearchFor::StaffCheckIn {
            self.search_for = SearchFor::Delegate;
            self.screen = Screen::Admin;
        }
    }

    /// The header's "present / total", the same figures as `kiosk stats`
    /// (a removed delegate counts in the sessions they attended).
    pub fn set_counts(&mut self, counts: &[DelegationCount]) {
        (self.checked_in, self.total) = crate::store::overall(counts);
    }

    /// A check-in could not be written: say so, and where to go instead.
    pub fn on_not_recorded(&mut self, error: String, now: Instant) {
        self.search_for = SearchFor::Delegate;
        self.screen = Screen::NotRecorded { until: now + self.welcome_for * 2, error };
    }

    /// A check-in by face or by the search lane: greet.
    pub fn on_check_in(
        &mut self,
        delegate: Delegate,
        at: Timestamp,
        already: bool,
        photo: Option<Arc<RgbImage>>,
        now: Instant,
    ) {
        if !already {
            self.checked_in += 1;
        }
        let plan = self.seat_plan(&delegate.seat);
        self.screen = Screen::Welcome { delegate, at, already, until: now + self.welcome_for, photo, plan };
    }

    /// Search results follow the query on the search screen only: on the
    /// code screen they would show a lookalike whom they might be.
    fn refresh_results(&mut self) {
        if self.screen != Screen::Search {
            return;
        }
        self.results = lookup::find(&self.delegates, &self.query, SEARCH_RESULTS).into_iter().cloned().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delegates() -> Vec<Delegate> {
        ["Nguyễn Văn An", "Nguyễn Thị Bình", "Trần Đức Cường"]
            .iter()
            .enumerate()
            .map(|(i, n)| Delegate { code: format!("D{i}"), name: n.to_string(), ..Delegate::default() })
            .collect()
    }

    fn update(faces: usize, event: Option<Event>) -> Update {
        let b = BBox { x0: 0.0, y0: 0.0, x1: 10.0, y1: 10.0 };
        Update {
            frame_index: 0,
            faces: vec![b; faces],
            guidance: None,
            event,
            processing: Duration::ZERO,
            roster: None,
        }
    }

    #[test]
    fn welcome_shows_then_returns_to_the_camera() {
        let mut m = Model::new(Lang::Vi, "Đại hội", "Phiên 1", delegates(), Duration::from_secs(3));
        let t0 = Instant::now();
        m.on_update(&update(1, None), t0);
        assert_eq!(m.screen, Screen::Live);
        let d = delegates()[0].clone();
        let welcome = Event::Welcome {
            delegate: d.clone(),
            at: Zone::default().now(),
            already: false,
            latency_ms: 120,
            liveness_ms: 8.0,
            photo: None,
        };
        m.on_update(&update(1, Some(welcome)), t0);
        assert!(matches!(&m.screen, Screen::Welcome { delegate, .. } if *delegate == d));
        assert_eq!(m.checked_in, 1);
        m.on_update(&update(0, None), t0 + Duration::from_secs(1));
        assert!(matches!(m.screen, Screen::Welcome { .. }), "the welcome stays while it is due");
        m.tick(t0 + Duration::from_secs(4));
        assert_eq!(m.screen, Screen::Idle);
    }

    #[test]
    fn the_welcome_highlights_the_delegates_seat_on_the_plan() {
        use crate::secretariat::hall::{Entrance, Shape, Side};
        let mut seated = delegates();
        for (d, seat) in seated.iter_mut().zip(["A-1", "B-2", "Khách mời"]) {
            d.seat = seat.into();
        }
        // Nine seats in ten follow the pattern: a plan, with one guest's seat off it.
        for (i, seat) in ["A-2", "A-3", "A-4", "A-5", "B-1", "B-3", "B-4"].into_iter().enumerate() {
            seated.push(Delegate {
                code: format!("E{i}"),
                name: format!("Đại biểu {i}"),
                seat: seat.into(),
                ..Delegate::default()
            });
        }
        let door = |name: &str, kiosk: &str| Entrance {
            name: name.into(),
            side: Side::Back,
            at: 0.5,
            kiosks: vec![kiosk.into()],
        };
        let layout = Layout {
            stage: "Sân khấu".into(),
            entrances: vec![door("Cửa A", "k1"), door("Cửa B", "k2")],
            ..Layout::default()
        };
        let mut m =
            Model::new(Lang::Vi, "Đại hội", "Phiên 1", seated.clone(), Duration::from_secs(3)).with_hall(layout, "k1");
        let t = Instant::now();
        m.on_check_in(seated[1].clone(), Zone::default().now(), false, None, t);
        let Screen::Welcome { plan: Some(d), .. } = &m.screen else { panic!("a plan: {:?}", m.screen) };
        let (hx, hy) = m.plan.as_ref().unwrap().place("B-2").unwrap();
        let yours: Vec<(f32, f32)> = d
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect { x, y, tone: Tone::Yours, .. } => Some((*x, *y)),
                _ => None,
            })
            .collect();
        assert_eq!(yours.len(), 1, "one seat highlighted");
        assert!((yours[0].0 - hx).abs() < 1.0 && (yours[0].1 - hy).abs() < 1.0, "at B-2: {yours:?}");
        let texts: Vec<&str> = d
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(texts.contains(&"Sân khấu") && texts.contains(&"Cửa A"), "{texts:?}");
        assert!(!texts.contains(&"Cửa B"), "another kiosk's entrance is not this one's");

        // A seat off the plan: the seat in words, no plan.
        m.on_check_in(seated[2].clone(), Zone::default().now(), false, None, t);
        assert!(matches!(&m.screen, Screen::Welcome { plan: None, .. }));

        // A delegate added at the help desk reaches the plan with the roster.
        let added =
            Delegate { code: "D9".into(), name: "Lê Thị Mai".into(), seat: "C-4".into(), ..Delegate::default() };
        let mut roster = seated.clone();
        roster.push(added.clone());
        m.on_update(&Update { roster: Some(roster), ..update(0, None) }, t);
        m.on_check_in(added, Zone::default().now(), false, None, t);
        assert!(matches!(&m.screen, Screen::Welcome { plan: Some(_), .. }), "C-4 is on the plan now");
    }

    #[test]
    fn the_search_lane_finds_without_diacritics_and_asks_to_confirm() {
        let mut m = Model::new(Lang::En, "Congress", "S", delegates(), Duration::from_secs(3));
        let t = Instant::now();
        m.on_update(&update(1, Some(Event::Unknown)), t);
        assert!(matches!(m.screen, Screen::Unknown { .. }));
        m.act(Action::OpenSearch, t);
        for c in "nguyen".chars() {
            m.act(Action::Type(c), t);
        }
        assert_eq!(m.results.len(), 2);
        m.act(Action::Type(' '), t);
        m.act(Action::Type('b'), t);
        assert_eq!(m.results.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["Nguyễn Thị Bình"]);
        m.act(Action::Backspace, t);
        assert_eq!(m.results.len(), 2);
        assert_eq!(m.act(Action::Confirm, t), None, "nothing to confirm yet");
        m.act(Action::Pick("D1".into()), t);
        assert_eq!(m.act(Action::Confirm, t), Some(Effect::ManualCheckIn { code: "D1".into(), by_staff: false }));
        // An "unknown" verdict arriving meanwhile does not pull the person out of the search.
        m.on_update(&update(1, Some(Event::Unknown)), t);
        assert!(matches!(m.screen, Screen::Confirm { .. }));
        m.act(Action::Cancel, t);
        assert_eq!(m.screen, Screen::Idle);
    }

    const EVIDENCE: Evidence = Evidence { score: 0.71, frames: 3 };

    fn ask(m: &mut Model, t: Instant) {
        let candidates = vec![delegates()[0].clone(), delegates()[2].clone()];
        m.on_update(&update(1, Some(Event::AskCode { candidates, evidence: EVIDENCE })), t);
    }

    fn type_in(m: &mut Model, text: &str, t: Instant) {
        for c in text.chars() {
            m.act(Action::Type(c), t);
        }
    }

    #[test]
    fn a_lookalike_checks_in_with_any_candidates_code_and_three_wrong_codes_mean_the_help_desk() {
        let mut m = Model::new(Lang::Vi, "Đại hội", "Phiên 1", delegates(), Duration::from_secs(3));
        let t = Instant::now();
        ask(&mut m, t);
        assert!(matches!(m.screen, Screen::AskCode { wrong: 0, .. }));
        type_in(&mut m, "d 2", t);
        assert!(m.results.is_empty(), "no search results on the code screen");
        assert_eq!(
            m.act(Action::Confirm, t),
            Some(Effect::CodeConfirmed { code: "D2".into(), evidence: EVIDENCE }),
            "case and spaces do not matter"
        );

        ask(&mut m, t);
        assert!(matches!(m.screen, Screen::AskCode { .. }), "a new question after the confirmed one");
        m.act(Action::Cancel, t);
        ask(&mut m, t);
        for attempt in 1..=CODE_ATTEMPTS {
            type_in(&mut m, "D1", t);
            assert_eq!(m.act(Action::Confirm, t), None, "D1 is not one of the lookalikes");
            assert!(m.query.is_empty(), "the wrong code is cleared");
            if attempt < CODE_ATTEMPTS {
                assert!(matches!(m.screen, Screen::AskCode { wrong, .. } if wrong == attempt));
            }
        }
        assert!(matches!(m.screen, Screen::Unknown { .. }), "then the help desk");
        assert_eq!(m.checked_in, 0);
    }

    #[test]
    fn a_busy_screen_left_alone_goes_back_to_the_camera_and_forgets_the_admin() {
        let mut m = Model::new(Lang::Vi, "Đại hội", "Phiên 1", delegates(), Duration::from_secs(3));
        let t = Instant::now();
        m.act(Action::OpenAdmin, t);
        m.on_pin_checked(Some(AdminView::default()));
        assert_eq!(m.screen, Screen::Admin);
        m.tick(t + LEFT_ALONE / 2);
        m.act(Action::SelectSession("Phiên 2".into()), t + LEFT_ALONE / 2);
        m.tick(t + LEFT_ALONE);
        assert_eq!(m.screen, Screen::Admin, "a touch keeps it open");
        m.tick(t + LEFT_ALONE / 2 + LEFT_ALONE);
        assert_eq!(m.screen, Screen::Idle);
        assert!(m.admin.is_none(), "admin rights are gone");
        ask(&mut m, t);
        type_in(&mut m, "D", t);
        m.tick(t + LEFT_ALONE);
        assert_eq!(m.screen, Screen::Idle);
        assert!(m.query.is_empty());
    }

    #[test]
    fn a_check_in_that_could_not_be_written_says_so_and_sends_to_the_help_desk() {
        let mut m = Model::new(Lang::Vi, "Đại hội", "Phiên 1", delegates(), Duration::from_secs(3));
        let t = Instant::now();
        let failed = Event::NotRecorded { error: "database kiosk.db is locked".into() };
        m.on_update(&update(1, Some(failed)), t);
        assert!(matches!(&m.screen, Screen::NotRecorded { error, .. } if error.contains("locked")));
        assert_eq!(m.problem, None, "not a camera problem");
        assert_eq!(m.checked_in, 0);
        m.on_update(&update(1, None), t + Duration::from_secs(1));
        assert!(matches!(m.screen, Screen::NotRecorded { .. }), "the message stays while it is due");
        m.tick(t + Duration::from_secs(7));
        assert_eq!(m.screen, Screen::Live);
    }

    #[test]
    fn the_camera_lost_message_goes_with_the_first_frame_after_it() {
        let mut m = Model::new(Lang::Vi, "Đại hội", "Phiên 1", delegates(), Duration::from_secs(3));
        m.problem = Some(Problem::Camera("VIDIOC_DQBUF: No such device".into()));
        let shown = crate::present::i18n::t(m.lang, crate::present::i18n::Text::CameraLost);
        assert!(shown.starts_with("Mất tín hiệu camera"), "{shown}");
        m.on_update(&update(0, None), Instant::now());
        assert_eq!(m.problem, None);
    }

    #[test]
    fn the_header_shows_the_figures_of_the_stats() {
        let mut m = Model::new(Lang::Vi, "Đại hội", "Phiên 1", delegates(), Duration::from_secs(3));
        assert_eq!((m.checked_in, m.total), (0, 3));
        let count =
            |delegation: &str, present, total| DelegationCount { delegation: delegation.into(), present, total };
        let counts = vec![count("Đoàn A", 2, 2), count("Đoàn B", 1, 3)];
        m.on_admin_refreshed("Phiên 2", AdminView { counts, ..AdminView::default() });
        assert_eq!((m.checked_in, m.total, m.session.as_str()), (3, 5, "Phiên 2"));
    }
}
