//! The hall plan: where each seat is, drawn from the roster's seat codes
//! ("B6", "P14", "A-12") and, when the organisers give one, a layout file
//! naming the stage, the aisles and the entrances. One drawing (a list of
//! shapes in seat-sized units) serves the kiosk's welcome screen, the
//! dashboard (SVG) and the presidium's print (`kiosk hall`, SVG or PDF).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::text::{Lang, collate};

/// More seats than this are no plan anyone reads on a screen: the hall is
/// then shown as a list.
pub const MOST_SEATS: usize = 5_000;
/// A seat's side, in units of the seat pitch.
const SEAT: f32 = 0.82;
/// The width of an aisle, in seat pitches.
const AISLE: f32 = 0.8;
/// Room on the left for the row letters.
const LABELS: f32 = 1.4;
/// The stage's depth, and the gap behind it.
const STAGE: f32 = 1.6;
/// Room around the seats for the entrances.
const PAD: f32 = 1.5;

/// A seat code read as a row and a number: "A-12" is row A, seat 12.
pub fn seat_of(code: &str) -> Option<(String, u32)> {
    let code = code.trim();
    let letters: String = code.chars().take_while(|c| c.is_alphabetic()).collect();
    let rest = code[letters.len()..].trim_start_matches(['-', ' ', '.', '/']);
    let count = letters.chars().count();
    if !(1..=3).contains(&count) || rest.is_empty() || rest.len() > 4 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: u32 = rest.parse().ok()?;
    (number > 0).then(|| (letters.to_uppercase(), number))
}

/// Where an entrance is: on which side of the hall, and how far along it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Front,
    Back,
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entrance {
    pub name: String,
    pub side: Side,
    /// 0 to 1: left to right on the front and back, front to back on the sides.
    #[serde(default = "half")]
    pub at: f32,
    /// The kiosks standing at this entrance (`[event] kiosk_id`).
    #[serde(default)]
    pub kiosks: Vec<String>,
}

fn half() -> f32 {
    0.5
}

/// The layout file named by `[event] hall_layout`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Layout {
    /// The stage's label, drawn in front of the first row; empty: no stage.
    pub stage: String,
    /// The rows from the stage back; empty: in the order of their letters.
    pub rows: Vec<String>,
    /// An aisle runs after these seat numbers, making blocks side by side.
    pub aisles_after_seat: Vec<u32>,
    /// A cross aisle runs behind these rows.
    pub aisles_after_row: Vec<String>,
    #[serde(rename = "entrance")]
    pub entrances: Vec<Entrance>,
}

impl Layout {
    /// The layout file (relative paths from the kiosk's folder), or none when `path` is empty.
    pub fn load(path: &Path) -> Result<Layout> {
        if path.as_os_str().is_empty() {
            return Ok(Layout::default());
        }
        let path = &crate::home::path(path);
        let bad = |what: String| {
            Error::Config(format!(
                "the hall layout {} {what}: correct it (README, \"The hall plan\") or set [event] hall_layout = \"\"",
                path.display()
            ))
        };
        let size = std::fs::metadata(path).map_err(|e| bad(format!("cannot be read ({e})")))?.len();
        if size > 1 << 20 {
            return Err(bad(format!("is {size} bytes, more than a layout's 1 MiB")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot be read ({e})")))?;
        let layout: Layout = toml::from_str(&text).map_err(|e| bad(format!("is not valid: {e}")))?;
        if layout.entrances.iter().any(|e| !(0.0..=1.0).contains(&e.at)) {
            return Err(bad("places an entrance outside its side: `at` goes from 0 to 1".into()));
        }
        if layout.rows.len() > 500 || layout.aisles_after_seat.len() > 100 || layout.entrances.len() > 50 {
            return Err(bad("is larger than any hall: at most 500 rows, 100 aisles and 50 entrances".into()));
        }
        Ok(layout)
    }
}

/// How a seat is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// A seat on the plan, nothing said about it (the kiosk's plan).
    Seat,
    Present,
    Absent,
    /// The seat the delegate at the kiosk goes to.
    Yours,
    Stage,
    /// An entrance (this kiosk's on the kiosk's plan).
    Door,
    Ink,
    Faint,
    /// Text on the stage and on dark seats.
    Paper,
}

impl Tone {
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Tone::Seat => [205, 205, 200],
            Tone::Present => [30, 140, 60],
            Tone::Absent => [225, 222, 216],
            Tone::Yours => [176, 24, 32],
            Tone::Stage => [90, 90, 96],
            Tone::Door => [200, 110, 0],
            Tone::Ink => [29, 29, 29],
            Tone::Faint => [120, 120, 120],
            Tone::Paper => [255, 255, 255],
        }
    }

    fn hex(self) -> String {
        let [r, g, b] = self.rgb();
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// What a plan is drawn with, in units of the seat pitch, y downwards.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect { x: f32, y: f32, w: f32, h: f32, tone: Tone },
    Text { x: f32, y: f32, size: f32, text: String, tone: Tone, anchor: Anchor, bold: bool },
}

/// A plan ready to draw: its shapes and its size.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub width: f32,
    pub height: f32,
    pub shapes: Vec<Shape>,
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: String,
    y: f32,
    /// Seat number → x.
    seats: BTreeMap<u32, f32>,
}

/// The hall as the seat codes and the layout give it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    rows: Vec<Row>,
    layout: Layout,
    width: f32,
    height: f32,
}

/// The hall, as a plan when the seats follow a pattern, else as a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Hall {
    Plan(Plan),
    /// The seat codes in the order people read them.
    List(Vec<String>),
}

impl Hall {
    /// From every seat code of the roster (empty codes are skipped). A plan
    /// when at least nine in ten codes read as row and number and there are
    /// at most `MOST_SEATS`; otherwise a list, never an error.
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>, layout: &Layout) -> Hall {
        let codes: BTreeSet<&str> = codes.into_iter().map(str::trim).filter(|c| !c.is_empty()).collect();
        let seats: Vec<(String, u32)> = codes.iter().filter_map(|c| seat_of(c)).collect();
        if seats.is_empty() || seats.len() * 10 < codes.len() * 9 || seats.len() > MOST_SEATS {
            let mut list: Vec<String> = codes.into_iter().map(String::from).collect();
            list.sort_by(|a, b| collate::compare(a, b));
            return Hall::List(list);
        }
        Hall::Plan(Plan::new(&seats, layout))
    }

    pub fn plan(&self) -> Option<&Plan> {
        match self {
            Hall::Plan(p) => Some(p),
            Hall::List(_) => None,
        }
    }
}

/// Rows in the order of their letters: Z before AA.
fn row_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.chars().count().cmp(&b.chars().count()).then_with(|| collate::compare(a, b))
}

impl Plan {
    fn new(seats: &[(String, u32)], layout: &Layout) -> Plan {
        let x_of = |n: u32| {
            PAD + LABELS + (n - 1) as f32 + AISLE * layout.aisles_after_seat.iter().filter(|&&a| a < n).count() as f32
        };
        // The seats row by row, in one pass.
        let mut by_row: BTreeMap<&str, BTreeMap<u32, f32>> = BTreeMap::new();
        for (row, n) in seats {
            by_row.entry(row.as_str()).or_default().insert(*n, x_of(*n));
        }
        let mut by_row: Vec<(&str, BTreeMap<u32, f32>)> = by_row.into_iter().collect();
        let given: Vec<String> = layout.rows.iter().map(|r| r.trim().to_uppercase()).collect();
        by_row.sort_by(|(a, _), (b, _)| {
            let at = |r: &str| given.iter().position(|g| g == r).unwrap_or(usize::MAX);
            at(a).cmp(&at(b)).then_with(|| row_order(a, b))
        });
        let cross: Vec<String> = layout.aisles_after_row.iter().map(|r| r.trim().to_uppercase()).collect();
        let mut y = PAD + if layout.stage.is_empty() { 0.0 } else { STAGE };
        let mut rows = Vec::with_capacity(by_row.len());
        for (name, seats) in by_row {
            let behind = cross.iter().any(|c| c == name);
            rows.push(Row { name: name.to_string(), y, seats });
            y += 1.0 + if behind { AISLE } else { 0.0 };
        }
        let width = rows.iter().flat_map(|r| r.seats.values()).fold(PAD + LABELS, |w, &x| w.max(x + 1.0)) + PAD;
        Plan { rows, layout: layout.clone(), width, height: y + PAD }
    }

    /// Where a seat is drawn (its top-left corner), if it is on the plan.
    pub fn place(&self, code: &str) -> Option<(f32, f32)> {
        let (row, number) = seat_of(code)?;
        let r = self.rows.iter().find(|r| r.name == row)?;
        r.seats.get(&number).map(|&x| (x, r.y))
    }

    pub fn seats(&self) -> usize {
        self.rows.iter().map(|r| r.seats.len()).sum()
    }

    /// The plan with each seat in its tone, seat numbers when `numbers`,
    /// and the entrances: all of them, or only `kiosk`'s when it is given.
    pub fn draw(&self, tone: &dyn Fn(&str, u32) -> Tone, numbers: bool, kiosk: Option<&str>) -> Drawing {
        let mut shapes = Vec::with_capacity(self.seats() * if numbers { 2 } else { 1 } + self.rows.len() + 8);
        let inset = (1.0 - SEAT) / 2.0;
        if !self.layout.stage.is_empty() {
            let (x, w) = (PAD + LABELS, self.width - LABELS - 2.0 * PAD);
            shapes.push(Shape::Rect { x, y: PAD - 0.2, w, h: STAGE - 0.4, tone: Tone::Stage });
            // Narrower than its stage: a bold letter is about 0.6 of its size wide.
            let size = (w / (self.layout.stage.chars().count() as f32 * 0.6)).min(0.6);
            shapes.push(text(
                x + w / 2.0,
                PAD + 0.45 + size / 2.0,
                size,
                &self.layout.stage,
                Tone::Paper,
                Anchor::Middle,
                true,
            ));
        }
        for row in &self.rows {
            shapes.push(text(PAD + 0.2, row.y + 0.72, 0.6, row.name.clone(), Tone::Faint, Anchor::Start, true));
            for (&n, &x) in &row.seats {
                let t = tone(&row.name, n);
                shapes.push(Shape::Rect { x: x + inset, y: row.y + inset, w: SEAT, h: SEAT, tone: t });
                if numbers {
                    let ink = if matches!(t, Tone::Present | Tone::Yours) { Tone::Paper } else { Tone::Faint };
                    shapes.push(text(x + 0.5, row.y + 0.64, 0.38, n.to_string(), ink, Anchor::Middle, false));
                }
            }
        }
        for e in &self.layout.entrances {
            if kiosk.is_some_and(|k| !e.kiosks.iter().any(|x| x == k)) {
                continue;
            }
            let (w, h) = (self.width, self.height);
            // A bar on the hall's edge, its name beside it on the inside.
            let (bar, label) = match e.side {
                Side::Front => ((e.at * w - 0.8, 0.1, 1.6, 0.3), (e.at * w, 0.95, Anchor::Middle)),
                Side::Back => ((e.at * w - 0.8, h - 0.4, 1.6, 0.3), (e.at * w, h - 0.6, Anchor::Middle)),
                Side::Left => ((0.1, e.at * h - 0.8, 0.3, 1.6), (0.55, e.at * h + 0.15, Anchor::Start)),
                Side::Right => ((w - 0.4, e.at * h - 0.8, 0.3, 1.6), (w - 0.55, e.at * h + 0.15, Anchor::End)),
            };
            let (x, y, bw, bh) = bar;
            shapes.push(Shape::Rect {
                x: x.clamp(0.0, w - bw),
                y: y.clamp(0.0, h - bh),
                w: bw,
                h: bh,
                tone: Tone::Door,
            });
            let x = if label.2 == Anchor::Middle { label.0.clamp(1.5, w - 1.5) } else { label.0 };
            shapes.push(text(x, label.1, 0.45, &e.name, Tone::Door, label.2, true));
        }
        Drawing { width: self.width, height: self.height, shapes }
    }
}

fn text(x: f32, y: f32, size: f32, text: impl Into<String>, tone: Tone, anchor: Anchor, bold: bool) -> Shape {
    Shape::Text { x, y, size, text: text.into(), tone, anchor, bold }
}

/// A swatch and its count for present, then for absent, from `(x, y)`.
fn legend(shapes: &mut Vec<Shape>, x: f32, y: f32, present: usize, absent: usize, lang: Lang) {
    let words = match lang {
        Lang::Vi => ["Có mặt", "Vắng"],
        Lang::En => ["Present", "Absent"],
    };
    for (i, (tone, word, n)) in
        [(Tone::Present, words[0], present), (Tone::Absent, words[1], absent)].into_iter().enumerate()
    {
        let x = x + i as f32 * 7.0;
        shapes.push(Shape::Rect { x, y, w: 0.7, h: 0.7, tone });
        shapes.push(text(x + 1.0, y + 0.62, 0.6, format!("{word}: {n}"), Tone::Ink, Anchor::Start, false));
    }
}

/// The presidium's picture of a session: each seat present or absent, and
/// a legend with the counts; a list of seats when there is no plan.
pub fn presence(hall: &Hall, seated: &[(String, bool)], lang: Lang) -> Drawing {
    let present = seated.iter().filter(|(_, p)| *p).count();
    let absent = seated.len() - present;
    match hall {
        Hall::Plan(plan) => {
            let by_seat: BTreeMap<(String, u32), bool> = seated
                .iter()
                .filter_map(|(code, p)| seat_of(code).map(|s| (s, *p)))
                .fold(BTreeMap::new(), |mut m, (s, p)| {
                    *m.entry(s).or_insert(false) |= p;
                    m
                });
            let tone = |row: &str, n: u32| match by_seat.get(&(row.to_string(), n)) {
                Some(true) => Tone::Present,
                _ => Tone::Absent,
            };
            let mut d = plan.draw(&tone, true, None);
            legend(&mut d.shapes, PAD + LABELS, d.height, present, absent, lang);
            d.height += 1.2;
            d.width = d.width.max(PAD + LABELS + 14.0);
            d
        }
        Hall::List(_) => list(seated, present, absent, lang),
    }
}

/// Seats that follow no pattern, in columns of forty, each marked.
fn list(seated: &[(String, bool)], present: usize, absent: usize, lang: Lang) -> Drawing {
    let mut seats: Vec<&(String, bool)> = seated.iter().filter(|(c, _)| !c.trim().is_empty()).collect();
    seats.sort_by(|a, b| collate::compare(&a.0, &b.0));
    const PER_COLUMN: usize = 40;
    const COLUMN: f32 = 8.0;
    let mut shapes = Vec::with_capacity(seats.len() * 2 + 4);
    legend(&mut shapes, 0.3, 0.3, present, absent, lang);
    for (i, (code, present)) in seats.iter().enumerate() {
        let (x, y) = ((i / PER_COLUMN) as f32 * COLUMN + 0.3, 1.6 + (i % PER_COLUMN) as f32 * 0.8);
        let tone = if *present { Tone::Present } else { Tone::Absent };
        shapes.push(Shape::Rect { x, y, w: 0.6, h: 0.6, tone });
        shapes.push(text(x + 0.9, y + 0.55, 0.55, code.clone(), Tone::Ink, Anchor::Start, false));
    }
    let columns = seats.len().div_ceil(PER_COLUMN).max(1);
    let height = 1.6 + seats.len().min(PER_COLUMN) as f32 * 0.8 + 0.4;
    Drawing { width: (columns as f32 * COLUMN).max(16.0), height, shapes }
}

impl Drawing {
    /// As an SVG document `pixels` wide per seat pitch.
    pub fn svg(&self, pixels: f32) -> String {
        let mut out = String::with_capacity(self.shapes.len() * 90 + 400);
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{:.0}" viewBox="0 0 {:.2} {:.2}" font-family="Noto Sans, DejaVu Sans, sans-serif">"#,
            self.width * pixels,
            self.height * pixels,
            self.width,
            self.height
        );
        let _ = write!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
        for s in &self.shapes {
            match s {
                Shape::Rect { x, y, w, h, tone } => {
                    let _ = write!(
                        out,
                        r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" rx="0.1" fill="{}"/>"#,
                        tone.hex()
                    );
                }
                Shape::Text { x, y, size, text, tone, anchor, bold } => {
                    let anchor = match anchor {
                        Anchor::Start => "start",
                        Anchor::Middle => "middle",
                        Anchor::End => "end",
                    };
                    let weight = if *bold { r#" font-weight="bold""# } else { "" };
                    let _ = write!(
                        out,
                        r#"<text x="{x:.2}" y="{y:.2}" font-size="{size:.2}" text-anchor="{anchor}" fill="{}"{weight}>{}</text>"#,
                        tone.hex(),
                        crate::text::markup(text)
                    );
                }
            }
        }
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_codes_read_as_row_and_number() {
        assert_eq!(seat_of("B6"), Some(("B".into(), 6)));
        assert_eq!(seat_of(" p14 "), Some(("P".into(), 14)));
        assert_eq!(seat_of("A-12"), Some(("A".into(), 12)));
        assert_eq!(seat_of("AA 3"), Some(("AA".into(), 3)));
        assert_eq!(seat_of("Đ7"), Some(("Đ".into(), 7)));
        for odd in ["", "12", "VIP", "A0", "A12B", "Khách mời", "ABCD1", "A-12345"] {
            assert_eq!(seat_of(odd), None, "{odd}");
        }
    }

    #[test]
    fn the_plan_follows_the_rows_aisles_and_stage() {
        let layout = Layout {
            stage: "Sân khấu".into(),
            aisles_after_seat: vec![4],
            aisles_after_row: vec!["A".into()],
            ..Layout::default()
        };
        let codes = ["B1", "A-1", "A5", "AA1", "Z2"];
        let Hall::Plan(plan) = Hall::new(codes, &layout) else { panic!("a plan") };
        let (a1, a5, b1) = (plan.place("A1").unwrap(), plan.place("A-5").unwrap(), plan.place("b1").unwrap());
        assert!((a5.0 - a1.0 - (4.0 + AISLE)).abs() < 1e-4, "an aisle after seat 4");
        assert!((b1.1 - a1.1 - (1.0 + AISLE)).abs() < 1e-4, "a cross aisle behind row A");
        assert!(a1.1 > STAGE, "the stage in front");
        assert!(plan.place("Z2").unwrap().1 < plan.place("AA1").unwrap().1, "Z before AA");
        assert_eq!(plan.place("C1"), None);
        let d = plan.draw(&|r, n| if (r, n) == ("A", 5) { Tone::Yours } else { Tone::Seat }, false, None);
        let yours: Vec<_> = d.shapes.iter().filter(|s| matches!(s, Shape::Rect { tone: Tone::Yours, .. })).collect();
        assert_eq!(yours.len(), 1);
    }

    #[test]
    fn seats_without_a_pattern_make_a_list() {
        let codes = ["VIP 1", "Khách mời", "Hàng đầu", "A1"];
        assert_eq!(
            Hall::new(codes, &Layout::default()),
            Hall::List(vec!["A1".into(), "Hàng đầu".into(), "Khách mời".into(), "VIP 1".into()])
        );
        let d = presence(&Hall::new(codes, &Layout::default()), &[("A1".into(), true)], Lang::Vi);
        assert!(d.svg(20.0).contains("Có mặt: 1") && d.svg(20.0).contains("Vắng: 0"));
    }

    #[test]
    fn names_cannot_become_markup_in_the_svg() {
        let layout = Layout { stage: "<script>&".into(), ..Layout::default() };
        let Hall::Plan(plan) = Hall::new(["A1"], &layout) else { panic!() };
        let svg = plan.draw(&|_, _| Tone::Seat, false, None).svg(10.0);
        assert!(svg.contains("&lt;script&gt;&amp;") && !svg.contains("<script"));
    }
}
