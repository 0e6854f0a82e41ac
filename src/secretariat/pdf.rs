//! The papers as PDF, ready to print on A4: the attendance list (landscape,
//! the column titles on every page) and the credentials report (portrait,
//! with the signature block). Text is set in the shipped Noto Sans, embedded,
//! so that every Vietnamese diacritic prints as it is on the screen.
//!
//! Pages are laid out first (as a list of things to draw), so that each can
//! say "page 3 of 12"; then krilla writes them.

use std::path::Path;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};

use crate::error::{Error, Result};
use crate::secretariat::hall::{Anchor, Drawing, Shape};
use crate::secretariat::papers::Papers;
use crate::text::fonts::{NOTO, NOTO_BOLD};

const A4_SHORT: f32 = 595.28;
const A4_LONG: f32 = 841.89;
const MARGIN: f32 = 36.0;
/// Room kept at the bottom of each page for its number.
const FOOTER: f32 = 22.0;
/// From one line of text to the next, in font sizes.
const LEADING: f32 = 1.25;
/// A row of the list to sign: room for a hand's signature (about 9 mm).
const SIGNING_ROW: f32 = 26.0;

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
    Centre,
}

enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, text: String, rgb: [u8; 3] },
    Rule { x0: f32, x1: f32, y: f32 },
    Fill { x: f32, y: f32, w: f32, h: f32, rgb: [u8; 3] },
}

fn fill(rgb: [u8; 3]) -> Fill {
    Fill {
        paint: rgb::Color::new(rgb[0], rgb[1], rgb[2]).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// The two faces, for drawing (krilla) and for measuring (ttf-parser).
pub(crate) struct Type {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

impl Type {
    pub(crate) fn new() -> Result<Self> {
        let parse = |data: &'static [u8]| {
            ttf_parser::Face::parse(data, 0)
                .map_err(|e| Error::Input(format!("the shipped font cannot be read ({e}): restore assets/fonts/")))
        };
        Ok(Self { regular: parse(NOTO)?, bold: parse(NOTO_BOLD)? })
    }

    pub(crate) fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        text.chars().map(|c| self.advance(c, size, bold)).sum()
    }

    /// How far one character moves the pen.
    fn advance(&self, c: char, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let units = face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).unwrap_or(0);
        units as f32 * size / face.units_per_em() as f32
    }

    /// `text` in lines no wider than `room`, broken between words, at the
    /// largest size from `size` down (by half points, to 5) that needs at
    /// most `lines` lines: a name is made smaller, never cut.
    pub(crate) fn wrap(&self, text: &str, mut size: f32, bold: bool, room: f32, lines: usize) -> (f32, Vec<String>) {
        loop {
            let mut out: Vec<String> = Vec::new();
            for word in text.split_whitespace() {
                match out.last_mut() {
                    Some(line) if self.width(&format!("{line} {word}"), size, bold) <= room => {
                        line.push(' ');
                        line.push_str(word);
                    }
                    _ => out.push(word.to_string()),
                }
            }
            let fits = out.len() <= lines && out.iter().all(|l| self.width(l, size, bold) <= room);
            if fits || size <= 5.0 {
                return (size, out);
            }
            size -= 0.5;
        }
    }

    /// `text`, cut with an ellipsis if it is wider than `room`: one pass
    /// over its characters, however long it is.
    fn fit(&self, text: &str, size: f32, bold: bool, room: f32) -> String {
        if self.width(text, size, bold) <= room {
            return text.to_string();
        }
        let room = room - self.advance('…', size, bold);
        let mut used = 0.0;
        let kept: String = text
            .chars()
            .take_while(|&c| {
                used += self.advance(c, size, bold);
                used <= room
            })
            .collect();
        format!("{kept}…")
    }
}

/// A column of a table: its title, width in points, alignment.
struct Column<'a> {
    title: &'a str,
    width: f32,
    align: Align,
}

/// Pages being laid out, top to bottom.
struct Layout {
    kind: Type,
    width: f32,
    height: f32,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout {
    fn new(width: f32, height: f32) -> Result<Self> {
        Ok(Self { kind: Type::new()?, width, height, pages: vec![Vec::new()], y: MARGIN })
    }

    fn content_width(&self) -> f32 {
        self.width - 2.0 * MARGIN
    }

    fn fits(&self, height: f32) -> bool {
        self.y + height <= self.height - MARGIN - FOOTER
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page is always open").push(op);
    }

    /// `text` set in a box `room` wide: broken between words onto at most
    /// `lines` lines, made smaller only when they do not suffice, and cut
    /// only where one word is wider than the box at the smallest size.
    fn set(&self, text: &str, size: f32, bold: bool, room: f32, lines: usize) -> (f32, Vec<String>) {
        let (size, broken) = self.kind.wrap(text, size, bold, room, lines);
        (size, broken.iter().map(|l| self.kind.fit(l, size, bold, room)).collect())
    }

    /// Lines already set, from the current line down in the box from `x` wide `room`.
    fn draw(&mut self, x: f32, room: f32, (size, lines): (f32, Vec<String>), bold: bool, align: Align) {
        for (i, text) in lines.into_iter().enumerate() {
            let w = self.kind.width(&text, size, bold);
            let x = match align {
                Align::Left => x,
                Align::Right => x + room - w,
                Align::Centre => x + (room - w) / 2.0,
            };
            let y = self.y + i as f32 * size * LEADING + size;
            self.push(Op::Text { x, y, size, bold, text, rgb: [0, 0, 0] });
        }
    }

    /// `text` in the box from `x` wide `room`, on up to three lines; returns the height taken.
    fn text_at(&mut self, x: f32, room: f32, text: &str, size: f32, bold: bool, align: Align) -> f32 {
        let set = self.set(text, size, bold, room, 3);
        let height = set.1.len().max(1) as f32 * set.0 * LEADING;
        self.draw(x, room, set, bold, align);
        height
    }

    /// Text across the page's width (wrapped), then down past it.
    fn line(&mut self, text: &str, size: f32, bold: bool, align: Align) {
        let set = self.set(text, size, bold, self.content_width(), 3);
        let height = set.1.len().max(1) as f32 * set.0 * LEADING + size * 0.25;
        if !self.fits(height) {
            self.new_page();
        }
        self.draw(MARGIN, self.content_width(), set, bold, align);
        self.y += height;
    }

    fn gap(&mut self, height: f32) {
        self.y += height;
    }

    fn rule(&mut self, width: f32) {
        let y = self.y;
        self.push(Op::Rule { x0: MARGIN, x1: MARGIN + width, y });
    }

    /// A row's cells set in their columns, and the height the row needs.
    fn set_row(
        &self,
        columns: &[Column],
        cells: &[&str],
        size: f32,
        bold: bool,
        min: f32,
    ) -> (Vec<(f32, Vec<String>)>, f32) {
        let set: Vec<_> =
            columns.iter().zip(cells).map(|(c, cell)| self.set(cell, size, bold, c.width - 4.0, 3)).collect();
        let tallest = set.iter().map(|(size, lines)| lines.len().max(1) as f32 * size * LEADING).fold(0.0, f32::max);
        (set, (tallest + size * 0.3).max(min))
    }

    fn draw_row(&mut self, columns: &[Column], (set, height): (Vec<(f32, Vec<String>)>, f32), bold: bool) {
        let mut x = MARGIN;
        for (c, cell) in columns.iter().zip(set) {
            self.draw(x + 2.0, c.width - 4.0, cell, bold, c.align);
            x += c.width;
        }
        self.y += height;
    }

    /// A table whose column titles are repeated at the top of every page it
    /// runs onto. Rows are at least `min` high; `ruled` draws a line under
    /// each (a list signed by hand).
    fn table(
        &mut self,
        columns: &[Column],
        rows: impl Iterator<Item = (Vec<String>, bool)>,
        size: f32,
        min: f32,
        ruled: bool,
    ) {
        let width: f32 = columns.iter().map(|c| c.width).sum();
        let titles: Vec<&str> = columns.iter().map(|c| c.title).collect();
        let header = |l: &mut Self| {
            l.rule(width);
            l.gap(2.0);
            let set = l.set_row(columns, &titles, size, true, 0.0);
            l.draw_row(columns, set, true);
            l.rule(width);
            l.gap(2.0);
        };
        if !self.fits(3.0 * min.max(size * 1.55)) {
            self.new_page();
        }
        header(self);
        for (cells, bold) in rows {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            let set = self.set_row(columns, &cells, size, bold, min);
            if !self.fits(set.1) {
                self.new_page();
                header(self);
            }
            self.draw_row(columns, set, bold);
            if ruled {
                self.rule(width);
            }
        }
        self.rule(width);
        self.gap(4.0);
    }

    /// Writes the pages, each with "footer · page i / n" at its foot.
    fn save(self, path: &Path, footer: &str, page_word: &str) -> Result<()> {
        let fail = |e: String| Error::output(path.display().to_string(), e);
        let fonts = (
            Font::new(NOTO.into(), 0).ok_or_else(|| fail("the shipped font cannot be embedded".into()))?,
            Font::new(NOTO_BOLD.into(), 0).ok_or_else(|| fail("the shipped font cannot be embedded".into()))?,
        );
        let settings = PageSettings::from_wh(self.width, self.height).ok_or_else(|| fail("page size".into()))?;
        let total = self.pages.len();
        let mut doc = Document::new();
        for (i, ops) in self.pages.iter().enumerate() {
            let mut page = doc.start_page_with(settings.clone());
            let mut surface = page.surface();
            let draw = |surface: &mut krilla::surface::Surface, x: f32, y: f32, size: f32, bold: bool, text: &str| {
                let font = if bold { &fonts.1 } else { &fonts.0 };
                surface.draw_text(Point::from_xy(x, y), font.clone(), size, text, false, TextDirection::Auto);
            };
            let mut rules = PathBuilder::new();
            for op in ops {
                match op {
                    Op::Text { x, y, size, bold, text, rgb } => {
                        surface.set_fill(Some(fill(*rgb)));
                        draw(&mut surface, *x, *y, *size, *bold, text)
                    }
                    Op::Rule { x0, x1, y } => {
                        rules.move_to(*x0, *y);
                        rules.line_to(*x1, *y);
                    }
                    Op::Fill { x, y, w, h, rgb } => {
                        let mut shape = PathBuilder::new();
                        if let Some(rect) = krilla::geom::Rect::from_xywh(*x, *y, *w, *h) {
                            shape.push_rect(rect);
                        }
                        if let Some(path) = shape.finish() {
                            surface.set_fill(Some(fill(*rgb)));
                            surface.draw_path(&path);
                        }
                    }
                }
            }
            surface.set_fill(Some(fill([0, 0, 0])));
            let number = format!("{footer} · {page_word} {} / {total}", i + 1);
            let w = self.kind.width(&number, 8.0, false);
            draw(&mut surface, (self.width - w) / 2.0, self.height - MARGIN + 4.0, 8.0, false, &number);
            if let Some(path) = rules.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(90, 90, 90).into(),
                    width: 0.6,
                    ..Default::default()
                }));
                surface.draw_path(&path);
            }
            surface.finish();
            page.finish();
        }
        let bytes = doc.finish().map_err(|e| fail(format!("{e:?}")))?;
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    }
}

/// The document header of a Vietnamese union paper: the issuing bodies on
/// the left (the last, the issuer itself, in bold), the country and motto on
/// the right, each block underlined by a short rule; then place and date.
fn document_header(l: &mut Layout, p: &Papers) {
    let half = l.content_width() / 2.0;
    let right = MARGIN + half;
    if !p.issuer.is_empty() {
        let top = l.y;
        for (i, line) in p.issuer.iter().enumerate() {
            let bold = i + 1 == p.issuer.len();
            l.y += l.text_at(MARGIN, half, line, 10.0, bold, Align::Centre);
        }
        let under_issuer = l.y + 3.0;
        l.y = top;
        l.y += l.text_at(right, half, p.words().motto[0], 10.0, true, Align::Centre);
        l.y += l.text_at(right, half, p.words().motto[1], 10.5, true, Align::Centre);
        let motto = l.kind.width(p.words().motto[1], 10.5, true);
        let under_motto = l.y + 3.0;
        l.push(Op::Rule { x0: right + (half - motto) / 2.0, x1: right + (half + motto) / 2.0, y: under_motto });
        l.push(Op::Rule { x0: MARGIN + half * 0.35, x1: MARGIN + half * 0.65, y: under_issuer });
        l.y = under_issuer.max(under_motto) + 6.0;
        l.y += l.text_at(right, half, &p.dated, 10.0, false, Align::Centre);
    } else {
        l.y += l.text_at(MARGIN, l.content_width(), &p.dated, 10.0, false, Align::Right);
    }
    l.gap(8.0);
}

/// The header, the title, the session, time printed and audit head, and the totals.
fn heading(l: &mut Layout, p: &Papers, title: &str) {
    document_header(l, p);
    l.line(p.event, 13.0, true, Align::Centre);
    l.line(title, 14.0, true, Align::Centre);
    l.gap(4.0);
    for line in p.title_block() {
        l.line(&line, 9.5, false, Align::Left);
    }
    l.line(&p.summary_line(), 10.0, true, Align::Left);
    l.gap(6.0);
}

/// `kiosk export --format pdf`: the attendance list, in Vietnamese order,
/// with a column to sign in, each row high enough for a signature.
pub fn write_list(path: &Path, p: &Papers) -> Result<()> {
    let mut l = Layout::new(A4_LONG, A4_SHORT)?;
    let w = p.words();
    heading(&mut l, p, w.list_title);
    let widths = [28.0, 62.0, 150.0, 120.0, 40.0, 56.0, 62.0, 70.0, 60.0, 120.0];
    let columns: Vec<Column> = w
        .columns
        .iter()
        .chain(std::iter::once(&w.sign))
        .zip(widths)
        .enumerate()
        .map(|(i, (title, width))| Column { title, width, align: if i == 0 { Align::Right } else { Align::Left } })
        .collect();
    let rows = p.rows.iter().enumerate().map(|(i, r)| (p.list_cells(i, r).to_vec(), false));
    l.table(&columns, rows, 8.5, SIGNING_ROW, true);
    l.save(path, &format!("{} · {}", p.event, p.session), w.page)
}

/// `kiosk hall --out FILE.pdf`: the hall for the presidium, each seat
/// present or absent, on one landscape page.
pub fn write_hall(path: &Path, p: &Papers, d: &Drawing) -> Result<()> {
    let mut l = Layout::new(A4_LONG, A4_SHORT)?;
    let w = p.words();
    l.line(p.event, 13.0, true, Align::Centre);
    l.line(&format!("{} · {}", w.hall_title, p.session), 12.0, true, Align::Centre);
    l.line(&format!("{} · {}: {}", p.summary_line(), w.printed, p.printed), 9.0, false, Align::Centre);
    l.gap(6.0);
    let (room_w, room_h) = (l.content_width(), A4_SHORT - MARGIN - FOOTER - l.y);
    // A small hall is not blown up past seats of a finger's width.
    let scale = (room_w / d.width).min(room_h / d.height).min(30.0);
    let (x0, y0) = (MARGIN + (room_w - d.width * scale) / 2.0, l.y);
    for shape in &d.shapes {
        match shape {
            Shape::Rect { x, y, w, h, tone } => {
                let (x, y, w, h) = (x0 + x * scale, y0 + y * scale, w * scale, h * scale);
                l.push(Op::Fill { x, y, w, h, rgb: tone.rgb() });
            }
            Shape::Text { x, y, size, text, tone, anchor, bold } => {
                let size = size * scale;
                let shift = match anchor {
                    Anchor::Start => 0.0,
                    Anchor::Middle => l.kind.width(text, size, *bold) / 2.0,
                    Anchor::End => l.kind.width(text, size, *bold),
                };
                let (x, y) = (x0 + x * scale - shift, y0 + y * scale);
                l.push(Op::Text { x, y, size, bold: *bold, text: text.clone(), rgb: tone.rgb() });
            }
        }
    }
    l.save(path, &format!("{} · {}", p.event, p.session), w.page)
}

/// `kiosk report --format pdf`: the credentials committee's report.
pub fn write_report(path: &Path, p: &Papers) -> Result<()> {
    let mut l = Layout::new(A4_SHORT, A4_LONG)?;
    let w = p.words();
    heading(&mut l, p, w.report_title);
    l.line(w.by_delegation, 11.0, true, Align::Left);
    let columns = [
        Column { title: w.columns[3], width: 223.0, align: Align::Left },
        Column { title: w.summoned, width: 70.0, align: Align::Right },
        Column { title: w.present, width: 70.0, align: Align::Right },
        Column { title: w.absent, width: 70.0, align: Align::Right },
        Column { title: w.percent, width: 90.0, align: Align::Right },
    ];
    let line = |s: &crate::secretariat::papers::SummaryLine| {
        vec![
            s.delegation.clone(),
            s.summoned.to_string(),
            s.present.to_string(),
            s.absent.to_string(),
            p.lang.percent(s.percent),
        ]
    };
    let rows = p.by_delegation.iter().map(|s| (line(s), false)).chain(std::iter::once((line(&p.total), true)));
    l.table(&columns, rows, 9.0, 0.0, false);
    l.gap(4.0);
    l.line(&p.rule(), 10.0, false, Align::Left);
    l.line(&p.verdict(), 12.0, true, Align::Left);
    l.gap(8.0);

    l.line(w.absent_title, 11.0, true, Align::Left);
    let absent = p.absent();
    if absent.is_empty() {
        l.line(w.nobody_absent, 10.0, false, Align::Left);
    } else {
        let columns = [
            Column { title: w.columns[0], width: 34.0, align: Align::Right },
            Column { title: w.columns[1], width: 80.0, align: Align::Left },
            Column { title: w.columns[2], width: 200.0, align: Align::Left },
            Column { title: w.columns[3], width: 160.0, align: Align::Left },
            Column { title: w.columns[4], width: 49.0, align: Align::Left },
        ];
        let rows = absent.iter().flat_map(|(_, list)| list.iter()).enumerate().map(|(i, r)| {
            (vec![(i + 1).to_string(), r.code.clone(), r.name.clone(), r.delegation.clone(), r.seat.clone()], false)
        });
        l.table(&columns, rows, 9.0, 0.0, false);
    }

    // The signatures, side by side, kept together on one page.
    if !p.signatures.is_empty() {
        l.gap(10.0);
        if !l.fits(90.0) {
            l.new_page();
        }
        let room = l.content_width() / p.signatures.len() as f32;
        let top = l.y;
        let mut bottom = top;
        for (i, s) in p.signatures.iter().enumerate() {
            let x = MARGIN + i as f32 * room;
            l.y = top;
            l.y += l.text_at(x, room, &s.role, 10.0, true, Align::Centre);
            l.y += l.text_at(x, room, w.sign_here, 9.0, false, Align::Centre);
            l.y += 50.0;
            l.y += l.text_at(x, room, &s.name, 10.0, true, Align::Centre);
            bottom = bottom.max(l.y);
        }
        l.y = bottom;
    }
    l.save(path, &format!("{} · {}", p.event, p.session), w.page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_is_cut_to_its_room_in_one_pass() {
        let kind = Type::new().unwrap();
        assert_eq!(kind.fit("Nguyễn Văn An", 10.0, false, 200.0), "Nguyễn Văn An");
        let long = "Nguyễn Thị Ánh Tuyết ".repeat(1000);
        let cut = kind.fit(&long, 10.0, false, 150.0);
        assert!(cut.ends_with('…') && cut.starts_with("Nguyễn Thị"), "{cut}");
        assert!(kind.width(&cut, 10.0, false) <= 150.0);
        let one_more: String = long.chars().take(cut.chars().count()).collect::<String>() + "…";
        assert!(kind.width(&one_more, 10.0, false) > 150.0, "as much as fits, no less");
    }
}
