//! The kiosk window: draws the `Model`, turns touches and keys into
//! `Action`s. No recognition, no database here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{
    self, Align, Color32, FontData, FontDefinitions, FontFamily, FontId, Layout, RichText, Stroke, StrokeKind, Vec2,
};
use image::RgbImage;

use crate::checkin::enrolment::Captured;
use crate::checkin::staff::UndoReason;
use crate::present::i18n::{Lang, Text, t};
use crate::present::model::{Action, DelegateForm, DeskDone, FormProblem, Model, Problem, Screen};
use crate::secretariat::hall::{Anchor, Drawing, Shape, Tone};
use crate::store::{Delegate, percent};
use crate::text::fonts::{NOTO, NOTO_BOLD};

const ACCENT: Color32 = Color32::from_rgb(176, 24, 32);
const WARNING: Color32 = Color32::from_rgb(200, 90, 0);

/// Noto Sans first (every Vietnamese diacritic), egui's own fonts as fallback.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = FontDefinitions::default();
    fonts.font_data.insert("noto".into(), Arc::new(FontData::from_static(NOTO)));
    fonts.font_data.insert("noto-bold".into(), Arc::new(FontData::from_static(NOTO_BOLD)));
    fonts.families.entry(FontFamily::Proportional).or_default().insert(0, "noto".into());
    fonts.families.insert(FontFamily::Name("bold".into()), vec!["noto-bold".into(), "noto".into()]);
    ctx.set_fonts(fonts);
    ctx.set_visuals(egui::Visuals::light());
}

fn bold(size: f32) -> FontId {
    FontId::new(size, FontFamily::Name("bold".into()))
}

/// The latest camera frame as a texture, uploaded only when it changes.
#[derive(Default)]
pub struct Preview {
    texture: Option<egui::TextureHandle>,
    size: [usize; 2],
    shown: Option<Arc<RgbImage>>,
}

impl Preview {
    /// Like `set`, for a picture that stays on screen: uploaded once.
    pub fn show(&mut self, ctx: &egui::Context, image: &Arc<RgbImage>) {
        if !self.shown.as_ref().is_some_and(|s| Arc::ptr_eq(s, image)) {
            self.set(ctx, image);
            self.shown = Some(image.clone());
        }
    }

    /// Draws the picture `height` points high, keeping its proportions.
    fn draw(&self, ui: &mut egui::Ui, height: f32) -> Option<egui::Rect> {
        let (tex, [w, h]) = (self.texture.as_ref()?, self.size);
        let size = Vec2::new(w as f32 * height / h.max(1) as f32, height);
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        ui.painter().image(tex.id(), rect, uv, Color32::WHITE);
        Some(rect)
    }

    pub fn set(&mut self, ctx: &egui::Context, frame: &RgbImage) {
        let size = [frame.width() as usize, frame.height() as usize];
        self.set_image(ctx, egui::ColorImage::from_rgb(size, frame.as_raw()));
    }

    /// A picture with transparency, such as a logo.
    pub fn set_rgba(&mut self, ctx: &egui::Context, picture: &image::RgbaImage) {
        let size = [picture.width() as usize, picture.height() as usize];
        self.set_image(ctx, egui::ColorImage::from_rgba_unmultiplied(size, picture.as_raw()));
    }

    fn set_image(&mut self, ctx: &egui::Context, image: egui::ColorImage) {
        let size = image.size;
        match &mut self.texture {
            Some(tex) => tex.set(image, egui::TextureOptions::LINEAR),
            None => self.texture = Some(ctx.load_texture("camera", image, egui::TextureOptions::LINEAR)),
        }
        self.size = size;
    }
}

/// Draws one frame of the kiosk; returns what the person did.
/// The pictures the screens show besides text.
#[derive(Default)]
pub struct Pictures {
    pub camera: Preview,
    /// The enrolled photo on the welcome screen.
    pub portrait: Preview,
    /// The face captured at the help desk, for staff to approve.
    pub candidate: Preview,
    pub logo: Preview,
}

pub fn draw(ui: &mut egui::Ui, model: &Model, pictures: &Pictures) -> Vec<Action> {
    let mut actions = Vec::new();
    for event in ui.input(|i| i.events.clone()) {
        if let egui::Event::Text(text) = event {
            actions.extend(text.chars().map(Action::Type));
        }
    }
    if ui.input(|i| i.key_pressed(egui::Key::Backspace)) {
        actions.push(Action::Backspace);
    }
    // A help desk's keyboard: Escape is the screen's own Cancel or Close.
    if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
        actions.push(Action::Cancel);
    }
    let lang = model.lang;
    egui::Panel::top("top").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(RichText::new(&model.event_name).font(bold(26.0)).color(ACCENT));
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if ui.button(RichText::new(t(lang, Text::SwitchLanguage)).size(20.0)).clicked() {
                    actions.push(Action::ToggleLanguage);
                }
                if ui.button(RichText::new(t(lang, Text::Admin)).size(16.0)).clicked() {
                    actions.push(Action::OpenAdmin);
                }
                let counts =
                    format!("{} · {}/{} {}", model.session, model.checked_in, model.total, t(lang, Text::CheckedIn));
                ui.label(RichText::new(counts).size(20.0));
                match model.link {
                    Some((true, _)) => {
                        ui.label(
                            RichText::new(format!("• {}", t(lang, Text::Online)))
                                .size(16.0)
                                .color(Color32::from_rgb(30, 140, 60)),
                        );
                    }
                    Some((false, waiting)) => {
                        let text = format!("• {} {waiting}", t(lang, Text::OfflineWaiting));
                        ui.label(RichText::new(text).size(16.0).color(WARNING));
                    }
                    None => {}
                }
            });
        });
    });
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| match &model.screen {
            Screen::Idle => {
                ui.add_space(8.0);
                if pictures.logo.draw(ui, 130.0).is_some() {
                    ui.add_space(6.0);
                }
                ui.label(RichText::new(&model.event_name).font(bold(40.0)).color(ACCENT));
                let counts =
                    format!("{} · {}/{} {}", model.session, model.checked_in, model.total, t(lang, Text::CheckedIn));
                ui.label(RichText::new(counts).size(28.0));
                camera_view(ui, model, &pictures.camera, &mut actions);
            }
            // The person sees themselves while they turn their head.
            Screen::Live | Screen::Challenge => camera_view(ui, model, &pictures.camera, &mut actions),
            Screen::Welcome { delegate, at, already, photo, plan, .. } => {
                let greet = |ui: &mut egui::Ui| {
                    ui.add_space(20.0);
                    if photo.is_some() {
                        pictures.portrait.draw(ui, 240.0);
                    }
                    ui.add_space(12.0);
                    let greeting = if *already {
                        format!("{} {}", t(lang, Text::AlreadyCheckedIn), model.zone.clock(at))
                    } else {
                        t(lang, Text::Welcome).to_string()
                    };
                    ui.label(RichText::new(greeting).size(34.0));
                    ui.add_space(16.0);
                    ui.label(RichText::new(&delegate.name).font(bold(64.0)).color(ACCENT));
                    ui.add_space(16.0);
                    // Rosters write the delegation in full ("Đoàn Hà Nội"): no label in front.
                    ui.label(RichText::new(&delegate.delegation).size(32.0));
                    ui.label(RichText::new(format!("{}: {}", t(lang, Text::Seat), delegate.seat)).font(bold(40.0)));
                    ui.label(RichText::new(format!("{}: {}", t(lang, Text::Time), model.zone.clock(at))).size(26.0));
                };
                // The greeting on the left, the way to the seat on the right.
                match plan {
                    Some(plan) => ui.columns(2, |halves| {
                        halves[0].vertical_centered(|ui| greet(ui));
                        halves[1].vertical_centered(|ui| {
                            ui.add_space(28.0);
                            seat_plan(ui, plan);
                        });
                    }),
                    None => greet(ui),
                }
            }
            Screen::Unknown { .. } => {
                apology(ui, lang, (Text::NotRecognised, Text::NotRecognisedHelp), None, true, &mut actions)
            }
            Screen::BadgeInvalid { .. } => {
                apology(ui, lang, (Text::BadgeInvalid, Text::BadgeInvalidHelp), Some(WARNING), true, &mut actions)
            }
            // A refusal offers the help desk, not the search lane.
            Screen::Refused { .. } => {
                apology(ui, lang, (Text::NotConfirmed, Text::NotConfirmedHelp), None, false, &mut actions)
            }
            Screen::NotRecorded { error, .. } => {
                apology(ui, lang, (Text::NotRecorded, Text::NotRecordedHelp), Some(WARNING), false, &mut actions);
                ui.add_space(30.0);
                // For the staff who come to help: what went wrong.
                ui.label(RichText::new(error).size(16.0).color(Color32::GRAY));
            }
            Screen::Search => search_view(ui, model, &mut actions),
            Screen::AskCode { wrong, .. } => ask_code_view(ui, model, *wrong, &mut actions),
            Screen::Pin => pin_view(ui, model, &mut actions),
            Screen::Admin => admin_view(ui, model, &mut actions),
            Screen::Capturing { delegate } => {
                ui.add_space(12.0);
                ui.label(RichText::new(&delegate.name).font(bold(40.0)).color(ACCENT));
                ui.label(RichText::new(t(lang, Text::Capturing)).size(28.0));
                ui.add_space(8.0);
                pictures.camera.draw(ui, 400.0);
                ui.add_space(12.0);
                if big_button(ui, t(lang, Text::Cancel)) {
                    actions.push(Action::Cancel);
                }
            }
            Screen::Approve { delegate, captured } => {
                approve_view(ui, lang, delegate, captured, pictures, &mut actions)
            }
            Screen::NewDelegate { form } => new_delegate_view(ui, lang, form, &mut actions),
            Screen::Confirm { delegate } => {
                ui.add_space(60.0);
                ui.label(RichText::new(t(lang, Text::ConfirmQuestion)).size(32.0));
                ui.add_space(16.0);
                ui.label(RichText::new(&delegate.name).font(bold(52.0)).color(ACCENT));
                ui.label(RichText::new(format!("{} · {}", delegate.code, delegate.delegation)).size(28.0));
                ui.add_space(30.0);
                button_pair(ui, lang, [(Text::Confirm, Action::Confirm), (Text::Cancel, Action::Cancel)], &mut actions);
            }
        });
    });
    actions
}

/// A message in place of a welcome: what happened and what to do, the search
/// lane when it may help, and where the help desk is.
fn apology(
    ui: &mut egui::Ui,
    lang: Lang,
    (title, help): (Text, Text),
    colour: Option<Color32>,
    search: bool,
    actions: &mut Vec<Action>,
) {
    ui.add_space(60.0);
    let title = RichText::new(t(lang, title)).font(bold(40.0));
    ui.label(match colour {
        Some(c) => title.color(c),
        None => title,
    });
    ui.add_space(12.0);
    ui.label(RichText::new(t(lang, help)).size(28.0));
    if search {
        ui.add_space(30.0);
        if big_button(ui, t(lang, Text::FindByName)) {
            actions.push(Action::OpenSearch);
        }
    }
    ui.add_space(20.0);
    ui.label(RichText::new(t(lang, Text::HelpDesk)).size(24.0));
}

/// Two big buttons side by side, centred.
fn button_pair(ui: &mut egui::Ui, lang: Lang, buttons: [(Text, Action); 2], actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.add_space((ui.available_width() - 540.0).max(0.0) / 2.0);
        for (i, (text, action)) in buttons.into_iter().enumerate() {
            if i > 0 {
                ui.add_space(40.0);
            }
            if big_button(ui, t(lang, text)) {
                actions.push(action);
            }
        }
    });
}

fn big_button(ui: &mut egui::Ui, label: &str) -> bool {
    ui.add(egui::Button::new(RichText::new(label).size(30.0)).min_size(Vec2::new(240.0, 72.0))).clicked()
}

fn camera_view(ui: &mut egui::Ui, model: &Model, preview: &Preview, actions: &mut Vec<Action>) {
    let lang = model.lang;
    let message = match (&model.problem, model.guidance, &model.screen) {
        (Some(Problem::Camera(_)), _, _) => t(lang, Text::CameraLost),
        (Some(Problem::Recognition(_)), _, _) => t(lang, Text::RecognitionDown),
        (None, _, Screen::Challenge) => t(lang, Text::TurnHead),
        (None, Some(g), _) => t(lang, Text::Guidance(g)),
        _ => t(lang, Text::LookAtCamera),
    };
    ui.add_space(8.0);
    ui.label(RichText::new(message).font(bold(34.0)));
    if model.badges && model.problem.is_none() && model.screen != Screen::Challenge {
        or_show_badge(ui, lang);
    }
    ui.add_space(8.0);
    let room = ui.available_size() - Vec2::new(0.0, 110.0);
    let [w, h] = preview.size;
    let height = room.y.min(room.x * h.max(1) as f32 / w.max(1) as f32);
    if let Some(rect) = preview.draw(ui, height) {
        let scale = rect.height() / h.max(1) as f32;
        for (i, b) in model.faces.iter().enumerate() {
            let r = egui::Rect::from_min_max(
                rect.min + Vec2::new(b.x0, b.y0) * scale,
                rect.min + Vec2::new(b.x1, b.y1) * scale,
            );
            let colour = if i == 0 { Color32::from_rgb(40, 200, 90) } else { Color32::from_gray(200) };
            ui.painter().rect_stroke(r, 6.0, Stroke::new(4.0, colour), StrokeKind::Outside);
        }
    } else {
        ui.allocate_exact_size(room, egui::Sense::hover());
    }
    ui.add_space(12.0);
    if big_button(ui, t(lang, Text::FindByName)) {
        actions.push(Action::OpenSearch);
    }
}

const KEYS: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

/// "— or show the QR code on your badge", beside a small drawn badge.
fn or_show_badge(ui: &mut egui::Ui, lang: Lang) {
    ui.horizontal(|ui| {
        let text = RichText::new(t(lang, Text::OrShowBadge)).size(26.0);
        let width = 40.0
            + ui.fonts_mut(|f| {
                f.layout_no_wrap(text.text().into(), FontId::proportional(26.0), Color32::WHITE).size().x
            });
        ui.add_space((ui.available_width() - width).max(0.0) / 2.0);
        let (rect, _) = ui.allocate_exact_size(Vec2::new(28.0, 36.0), egui::Sense::hover());
        let painter = ui.painter();
        painter.rect_filled(rect, 3.0, Color32::WHITE);
        painter.rect_stroke(rect, 3.0, Stroke::new(1.5, Color32::DARK_GRAY), StrokeKind::Inside);
        // A QR code's three corner squares, small.
        let cell = 6.0;
        let origin = rect.min + Vec2::new(4.0, 12.0);
        for (x, y) in [(0.0, 0.0), (2.0, 0.0), (0.0, 2.0)] {
            let corner = egui::Rect::from_min_size(origin + Vec2::new(x * cell, y * cell), Vec2::splat(cell * 0.9));
            painter.rect_filled(corner, 0.0, Color32::BLACK);
        }
        ui.add_space(8.0);
        ui.label(text);
    });
}

fn search_view(ui: &mut egui::Ui, model: &Model, actions: &mut Vec<Action>) {
    let lang = model.lang;
    ui.add_space(12.0);
    let prompt = if model.enrolling() { Text::EnrolWhom } else { Text::SearchPrompt };
    ui.label(RichText::new(t(lang, prompt)).size(28.0));
    if model.badges && !model.enrolling() {
        ui.label(RichText::new(t(lang, Text::OrShowBadge)).size(22.0));
    }
    let shown = if model.query.is_empty() { "…".to_string() } else { model.query.clone() };
    ui.label(RichText::new(shown).font(bold(40.0)).color(ACCENT));
    ui.add_space(8.0);
    if model.results.is_empty() && !model.query.trim().is_empty() {
        ui.label(RichText::new(t(lang, Text::NoResults)).size(24.0));
    }
    for d in &model.results {
        let label = format!("{}  ·  {}  ·  {}", d.name, d.code, d.delegation);
        if ui.add(egui::Button::new(RichText::new(label).size(26.0)).min_size(Vec2::new(700.0, 52.0))).clicked() {
            actions.push(Action::Pick(d.code.clone()));
        }
    }
    ui.add_space(16.0);
    keyboard(ui, lang, actions);
}

/// The face the desk captured, with whom it looks like, for staff to approve;
/// or why there is none, and another try.
fn approve_view(
    ui: &mut egui::Ui,
    lang: Lang,
    delegate: &Delegate,
    captured: &Captured,
    pictures: &Pictures,
    actions: &mut Vec<Action>,
) {
    ui.add_space(20.0);
    let Captured::Face(candidate) = captured else {
        let why = if *captured == Captured::NotLive { Text::NotLiveAtDesk } else { Text::NoGoodFrame };
        ui.label(RichText::new(&delegate.name).font(bold(40.0)).color(ACCENT));
        ui.add_space(12.0);
        ui.label(RichText::new(t(lang, why)).font(bold(30.0)).color(WARNING));
        ui.add_space(30.0);
        button_pair(ui, lang, [(Text::Retake, Action::Retake), (Text::Cancel, Action::Cancel)], actions);
        return;
    };
    ui.label(RichText::new(t(lang, Text::ApproveFace)).size(30.0));
    ui.add_space(8.0);
    pictures.candidate.draw(ui, 240.0);
    ui.add_space(8.0);
    ui.label(RichText::new(&delegate.name).font(bold(48.0)).color(ACCENT));
    ui.label(RichText::new(format!("{} · {}", delegate.code, delegate.delegation)).size(26.0));
    if let Some((other, score)) = &candidate.lookalike {
        let warning = format!("{} {} ({}, {score:.2})", t(lang, Text::LooksLike), other.name, other.code);
        ui.label(RichText::new(warning).font(bold(24.0)).color(WARNING));
    }
    ui.add_space(20.0);
    button_pair(ui, lang, [(Text::Approve, Action::Approve), (Text::Retake, Action::Retake)], actions);
    ui.add_space(12.0);
    if ui.button(RichText::new(t(lang, Text::Cancel)).size(22.0)).clicked() {
        actions.push(Action::Cancel);
    }
}

/// Staff type in a delegate missing from the roster: tap a field, type
/// (on screen or on a keyboard), confirm.
fn new_delegate_view(ui: &mut egui::Ui, lang: Lang, form: &DelegateForm, actions: &mut Vec<Action>) {
    ui.add_space(12.0);
    ui.label(RichText::new(t(lang, Text::AddDelegate)).font(bold(34.0)));
    let labels = [Text::Code, Text::Name, Text::Delegation, Text::Seat];
    egui::Grid::new("new-delegate").num_columns(2).spacing([16.0, 8.0]).show(ui, |ui| {
        for (i, (label, value)) in labels.into_iter().zip(&form.fields).enumerate() {
            ui.label(RichText::new(t(lang, label)).size(24.0));
            let shown = RichText::new(if i == form.focus { format!("{value}|") } else { value.clone() }).size(28.0);
            let field = egui::Button::new(shown).min_size(Vec2::new(560.0, 48.0)).selected(i == form.focus);
            let response = ui.add(field);
            // An empty field is still named, for screen readers (and the tests).
            let name = format!("{}: {value}", t(lang, label));
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::TextInput, true, &name));
            if response.clicked() {
                actions.push(Action::Focus(i));
            }
            ui.end_row();
        }
    });
    if let Some(problem) = form.problem {
        let text = match problem {
            FormProblem::Missing => Text::CodeAndNameNeeded,
            FormProblem::CodeTaken => Text::CodeTaken,
        };
        ui.label(RichText::new(t(lang, text)).font(bold(24.0)).color(WARNING));
    }
    ui.add_space(8.0);
    if big_button(ui, t(lang, Text::Confirm)) {
        actions.push(Action::Confirm);
    }
    ui.add_space(8.0);
    keyboard(ui, lang, actions);
}

/// The lookalike check: the person proves who they are with their code. The
/// candidates' names and codes are never shown.
fn ask_code_view(ui: &mut egui::Ui, model: &Model, wrong: u8, actions: &mut Vec<Action>) {
    let lang = model.lang;
    ui.add_space(12.0);
    ui.label(RichText::new(t(lang, Text::CodePrompt)).font(bold(32.0)));
    ui.label(RichText::new(t(lang, Text::CodeWhy)).size(22.0));
    if model.badges {
        ui.label(RichText::new(t(lang, Text::OrShowBadge)).size(22.0));
    }
    let shown = if model.query.is_empty() { "…".to_string() } else { model.query.to_uppercase() };
    ui.label(RichText::new(shown).font(bold(40.0)).color(ACCENT));
    // The line is kept when empty, so that the keys do not move under a finger.
    let warning = if wrong > 0 { t(lang, Text::WrongCode) } else { " " };
    ui.label(RichText::new(warning).size(24.0).color(ACCENT));
    ui.add_space(8.0);
    if big_button(ui, t(lang, Text::Confirm)) {
        actions.push(Action::Confirm);
    }
    ui.add_space(12.0);
    keyboard(ui, lang, actions);
}

/// Letters and digits, then space, delete and cancel.
fn keyboard(ui: &mut egui::Ui, lang: Lang, actions: &mut Vec<Action>) {
    for row in KEYS {
        ui.horizontal(|ui| {
            let width = row.len() as f32 * 78.0;
            ui.add_space((ui.available_width() - width).max(0.0) / 2.0);
            for c in row.chars() {
                let key = egui::Button::new(RichText::new(c.to_uppercase().to_string()).size(28.0))
                    .min_size(Vec2::splat(70.0));
                if ui.add(key).clicked() {
                    actions.push(Action::Type(c));
                }
            }
        });
    }
    ui.horizontal(|ui| {
        ui.add_space((ui.available_width() - 760.0).max(0.0) / 2.0);
        if ui
            .add(egui::Button::new(RichText::new(t(lang, Text::Space)).size(28.0)).min_size(Vec2::new(360.0, 70.0)))
            .clicked()
        {
            actions.push(Action::Type(' '));
        }
        if ui
            .add(egui::Button::new(RichText::new(t(lang, Text::Delete)).size(28.0)).min_size(Vec2::new(160.0, 70.0)))
            .clicked()
        {
            actions.push(Action::Backspace);
        }
        if ui
            .add(egui::Button::new(RichText::new(t(lang, Text::Cancel)).size(28.0)).min_size(Vec2::new(200.0, 70.0)))
            .clicked()
        {
            actions.push(Action::Cancel);
        }
    });
}

fn pin_view(ui: &mut egui::Ui, model: &Model, actions: &mut Vec<Action>) {
    let lang = model.lang;
    ui.add_space(30.0);
    ui.label(RichText::new(t(lang, Text::EnterPin)).size(30.0));
    ui.label(RichText::new("*".repeat(model.pin.len()) + " ").size(40.0));
    if model.pin_rejected {
        let said = if model.pin_shut_out { Text::PinShutOut } else { Text::WrongPin };
        ui.label(RichText::new(t(lang, said)).size(22.0).color(ACCENT));
    }
    for row in ["123", "456", "789"] {
        ui.horizontal(|ui| {
            ui.add_space((ui.available_width() - 3.0 * 98.0).max(0.0) / 2.0);
            for c in row.chars() {
                if ui
                    .add(egui::Button::new(RichText::new(c.to_string()).size(32.0)).min_size(Vec2::splat(90.0)))
                    .clicked()
                {
                    actions.push(Action::Type(c));
                }
            }
        });
    }
    ui.horizontal(|ui| {
        ui.add_space((ui.available_width() - 3.0 * 98.0).max(0.0) / 2.0);
        if ui
            .add(egui::Button::new(RichText::new(t(lang, Text::Delete)).size(24.0)).min_size(Vec2::splat(90.0)))
            .clicked()
        {
            actions.push(Action::Backspace);
        }
        if ui.add(egui::Button::new(RichText::new("0").size(32.0)).min_size(Vec2::splat(90.0))).clicked() {
            actions.push(Action::Type('0'));
        }
        if ui.add(egui::Button::new(RichText::new(t(lang, Text::Ok)).size(28.0)).min_size(Vec2::splat(90.0))).clicked()
        {
            actions.push(Action::SubmitPin);
        }
    });
    ui.add_space(16.0);
    if big_button(ui, t(lang, Text::Cancel)) {
        actions.push(Action::Cancel);
    }
}

fn admin_view(ui: &mut egui::Ui, model: &Model, actions: &mut Vec<Action>) {
    let lang = model.lang;
    let Some(view) = &model.admin else { return };
    ui.horizontal_wrapped(|ui| {
        for name in &view.sessions {
            let current = *name == model.session;
            let label = RichText::new(name).size(22.0);
            if ui.add(egui::Button::new(if current { label.strong() } else { label }).selected(current)).clicked()
                && !current
            {
                actions.push(Action::SelectSession(name.clone()));
            }
        }
    });
    ui.label(
        RichText::new(format!(
            "{}: {}/{} — {}",
            t(lang, Text::Present),
            model.checked_in,
            model.total,
            lang.percent(percent(model.checked_in, model.total))
        ))
        .font(bold(30.0)),
    );
    ui.columns(2, |cols| {
        egui::ScrollArea::vertical().id_salt("counts").max_height(420.0).show(&mut cols[0], |ui| {
            egui::Grid::new("by-delegation").striped(true).num_columns(3).show(ui, |ui| {
                for c in &view.counts {
                    ui.label(RichText::new(&c.delegation).size(20.0));
                    ui.label(RichText::new(format!("{}/{}", c.present, c.total)).size(20.0));
                    ui.label(RichText::new(lang.percent(percent(c.present, c.total))).size(20.0));
                    ui.end_row();
                }
            });
        });
        let ui = &mut cols[1];
        ui.label(RichText::new(t(lang, Text::LatestCheckIns)).font(bold(22.0)));
        egui::ScrollArea::vertical().id_salt("latest").max_height(400.0).show(ui, |ui| {
            for a in &view.latest {
                let line = format!("{} {} · {} · {}", model.zone.clock(&a.at), a.name, a.code, a.method.as_str());
                ui.label(RichText::new(line).size(18.0));
                ui.horizontal(|ui| {
                    for reason in UndoReason::ALL {
                        if ui.small_button(t(lang, Text::Undo(reason))).clicked() {
                            actions.push(Action::Undo { code: a.code.clone(), reason });
                        }
                    }
                });
            }
        });
    });
    ui.add_space(8.0);
    if let Some(done) = &model.desk_done {
        let (text, d) = match done {
            DeskDone::FaceEnrolled(d) => (Text::FaceEnrolled, d),
            DeskDone::DelegateAdded(d) => (Text::DelegateAdded, d),
        };
        ui.label(RichText::new(format!("{} {} ({})", t(lang, text), d.name, d.code)).font(bold(22.0)));
    }
    ui.horizontal(|ui| {
        if ui.button(RichText::new(t(lang, Text::PrintPapers)).size(20.0)).clicked() {
            actions.push(Action::PrintPapers);
        }
        if ui.button(RichText::new(t(lang, Text::EnrolFace)).size(20.0)).clicked() {
            actions.push(Action::EnrolFace);
        }
        if ui.button(RichText::new(t(lang, Text::AddDelegate)).size(20.0)).clicked() {
            actions.push(Action::AddDelegate);
        }
        if !view.papers.is_empty() {
            ui.label(RichText::new(format!("{} {}", t(lang, Text::PapersWritten), view.papers.join(" · "))).size(16.0));
        }
    });
    ui.add_space(8.0);
    button_pair(ui, lang, [(Text::StaffCheckIn, Action::StaffCheckIn), (Text::Close, Action::Cancel)], actions);
}

/// The hall in the room left below the greeting, no larger than it needs.
fn seat_plan(ui: &mut egui::Ui, d: &Drawing) {
    let room = ui.available_size() - egui::vec2(48.0, 8.0);
    let scale = (room.x / d.width).min(room.y / d.height).min(40.0);
    if scale * d.height < 60.0 {
        return;
    }
    let (rect, _) = ui.allocate_exact_size(egui::vec2(d.width, d.height) * scale, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 6.0, Color32::WHITE);
    let at = |x: f32, y: f32| rect.min + egui::vec2(x, y) * scale;
    let colour = |tone: Tone| {
        let [r, g, b] = tone.rgb();
        Color32::from_rgb(r, g, b)
    };
    for shape in &d.shapes {
        match shape {
            Shape::Rect { x, y, w, h, tone } => {
                let r = egui::Rect::from_min_size(at(*x, *y), egui::vec2(*w, *h) * scale);
                painter.rect_filled(r, 0.12 * scale, colour(*tone));
            }
            Shape::Text { x, y, size, text, tone, anchor, bold: heavy } => {
                let align = match anchor {
                    Anchor::Start => egui::Align2::LEFT_BOTTOM,
                    Anchor::Middle => egui::Align2::CENTER_BOTTOM,
                    Anchor::End => egui::Align2::RIGHT_BOTTOM,
                };
                let font = if *heavy { bold(size * scale) } else { egui::FontId::proportional(size * scale) };
                // The SVG's y is the baseline; egui places the text's bottom.
                painter.text(at(*x, *y + size * 0.25), align, text, font, colour(*tone));
            }
        }
    }
}

/// Frames per second of the window, over the last second or so.
#[derive(Default)]
pub struct FpsMeter {
    window_start: Option<Instant>,
    frames: u32,
    pub samples: Vec<f32>,
}

impl FpsMeter {
    pub fn tick(&mut self, now: Instant) {
        let start = *self.window_start.get_or_insert(now);
        self.frames += 1;
        let elapsed = now - start;
        if elapsed >= Duration::from_secs(1) {
            self.samples.push(self.frames as f32 / elapsed.as_secs_f32());
            self.window_start = Some(now);
            self.frames = 0;
        }
    }
}
