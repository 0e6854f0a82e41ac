//! The dashboard's pictures, drawn on the server as SVG (no script builds
//! them): arrivals over time against the quorum, and present out of
//! summoned by delegation. The page shows them as images and asks for them
//! again when the figures change.

use std::fmt::Write as _;

use crate::dashboard::figures::Figures;
use crate::store::percent;
use crate::text::Lang;
use crate::text::markup as esc;

const GREEN: &str = "#1e8c3c";
const ORANGE: &str = "#c85a00";
const GREY: &str = "#e4e1dc";
const INK: &str = "#1d1d1d";
const FAINT: &str = "#777777";

fn open(out: &mut String, width: f32, height: f32) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="Noto Sans, DejaVu Sans, sans-serif" font-size="13">"#
    );
}

/// Present over time, a step at each minute someone arrived, with the
/// quorum's line: when the hall filled, and when the quorum came.
pub fn arrivals(f: &Figures, lang: Lang) -> String {
    let (width, height) = (640.0_f32, 260.0_f32);
    let (left, right, top, bottom) = (46.0, 16.0, 14.0, 30.0);
    let (w, h) = (width - left - right, height - top - bottom);
    let mut out = String::with_capacity(4096 + f.arrivals.len() * 24);
    open(&mut out, width, height);
    let most = f.summoned.max(1) as f32;
    let y_of = |n: usize| top + h - h * n as f32 / most;
    // Axes and the count at the top.
    let _ = write!(
        out,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{b}" stroke="{FAINT}"/><line x1="{left}" y1="{b}" x2="{r}" y2="{b}" stroke="{FAINT}"/><text x="{tx}" y="{ty}" text-anchor="end" fill="{FAINT}">{}</text><text x="{tx}" y="{b}" text-anchor="end" fill="{FAINT}">0</text>"#,
        f.summoned,
        b = top + h,
        r = left + w,
        tx = left - 6.0,
        ty = top + 10.0,
    );
    let quorum = f.quorum_needed;
    let qy = y_of(quorum);
    let words = match lang {
        Lang::Vi => ("Đủ điều kiện", "Chưa có ai điểm danh"),
        Lang::En => ("Quorum", "Nobody has checked in yet"),
    };
    let _ = write!(
        out,
        r#"<line x1="{left}" y1="{qy}" x2="{r}" y2="{qy}" stroke="{ORANGE}" stroke-dasharray="6 4"/><text x="{tx}" y="{ty}" text-anchor="end" fill="{ORANGE}">{}: {quorum}</text>"#,
        words.0,
        r = left + w,
        tx = left + w,
        ty = qy - 5.0,
    );
    if f.arrivals.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{FAINT}">{}</text></svg>"#,
            left + w / 2.0,
            top + h / 2.0,
            words.1
        );
        return out;
    }
    let steps = f.arrivals.len();
    let x_of = |i: usize| left + w * (i as f32 + 0.5) / steps as f32;
    let mut total = 0;
    let mut path = format!("M{left},{}", top + h);
    for (i, a) in f.arrivals.iter().enumerate() {
        total += a.present;
        let _ = write!(path, " H{:.1} V{:.1}", x_of(i), y_of(total));
    }
    let _ = write!(path, " H{}", left + w);
    let _ = write!(out, r#"<path d="{path}" fill="none" stroke="{GREEN}" stroke-width="2.5"/>"#);
    // The first and last minutes, and three between.
    let ticks: std::collections::BTreeSet<usize> = (0..5).map(|k| k * (steps - 1) / 4).collect();
    for i in ticks {
        let anchor = if i == 0 {
            "start"
        } else if i == steps - 1 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="{anchor}" fill="{FAINT}">{}</text>"#,
            x_of(i),
            height - 10.0,
            esc(&f.arrivals[i].minute)
        );
    }
    out.push_str("</svg>");
    out
}

/// Present out of summoned, one bar per delegation in Vietnamese order:
/// the table as a picture, folded into columns as delegations grow, so that
/// it keeps a screen's shape and shrinks into any box on the projector.
pub fn delegations(f: &Figures, lang: Lang) -> String {
    let n = f.by_delegation.len().max(1);
    let columns = ((n as f32 / 8.0).sqrt().ceil() as usize).max(1);
    let rows = n.div_ceil(columns);
    let (column, row, label, bar) = (560.0_f32, 24.0_f32, 240.0_f32, 180.0_f32);
    let (width, height) = (columns as f32 * column, (rows as f32 * row + 8.0).max(40.0));
    let mut out = String::with_capacity(256 + f.by_delegation.len() * 420);
    open(&mut out, width, height);
    for (i, d) in f.by_delegation.iter().enumerate() {
        let (x, y) = ((i / rows) as f32 * column, 4.0 + (i % rows) as f32 * row);
        let share = if d.summoned == 0 { 0.0 } else { d.present as f32 / d.summoned as f32 };
        // A name longer than its room is cut here (whole on hovering); the
        // table and the papers keep it whole.
        let name: String = if d.delegation.chars().count() > 32 {
            d.delegation.chars().take(31).chain(std::iter::once('…')).collect()
        } else {
            d.delegation.clone()
        };
        let _ = write!(
            out,
            r#"<text x="{tx}" y="{ty}" text-anchor="end" fill="{INK}"><title>{full}</title>{name}</text><rect x="{bx}" y="{ry}" width="{bar}" height="{rh}" fill="{GREY}" rx="3"/><rect x="{bx}" y="{ry}" width="{pw:.1}" height="{rh}" fill="{GREEN}" rx="3"/><text x="{nx}" y="{ty}" fill="{INK}">{present}/{summoned} · {pct}</text>"#,
            tx = x + label - 8.0,
            ty = y + 16.0,
            full = esc(&d.delegation),
            name = esc(&name),
            bx = x + label,
            ry = y + 4.0,
            rh = row - 8.0,
            pw = bar * share,
            nx = x + label + bar + 8.0,
            present = d.present,
            summoned = d.summoned,
            pct = lang.percent(percent(d.present, d.summoned)),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::figures::{Arrival, ByDelegation};

    fn figures(present: usize, summoned: usize) -> Figures {
        Figures {
            session: "Phiên 1".into(),
            present,
            summoned,
            quorum_percent: 0.0,
            quorum_met: false,
            quorum_above_percent: 50.0,
            quorum_needed: summoned / 2 + 1,
            by_delegation: vec![ByDelegation { delegation: "Đoàn <Huế>".into(), present, summoned }],
            kiosks: vec![],
            latest: vec![],
            arrivals: vec![
                Arrival { minute: "08:12".into(), present: 1 },
                Arrival { minute: "08:15".into(), present: present - 1 },
            ],
            shared: false,
            ledger_online: true,
        }
    }

    #[test]
    fn the_quorum_line_is_at_the_fewest_who_meet_it() {
        let svg = arrivals(&figures(3, 300), Lang::Vi);
        assert!(svg.contains("Đủ điều kiện: 151") && svg.contains(">08:12<") && svg.contains(">08:15<"), "{svg}");
    }

    #[test]
    fn delegation_names_cannot_become_markup() {
        let svg = delegations(&figures(3, 6), Lang::Vi);
        assert!(svg.contains("Đoàn &lt;Huế&gt;") && svg.contains("3/6 · 50,0%"), "{svg}");
    }
}
