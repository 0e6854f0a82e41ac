//! The page itself: drawn on the server with the figures of the moment, then
//! kept current by a short script fed by `/events`. Every text from the
//! roster goes through `esc` here and through `textContent` in the script.

use crate::dashboard::figures::Figures;
use crate::store::{Method, percent};
use crate::text::Lang;

pub use crate::text::markup as esc;

/// A value for an address: every byte but letters and digits percent-encoded.
fn query_value(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The page's words, in both languages.
struct Words {
    lang: &'static str,
    other: &'static str,
    other_code: &'static str,
    present: &'static str,
    attendance: &'static str,
    met: &'static str,
    not_met: &'static str,
    rule: &'static str,
    by_delegation: &'static str,
    delegation: &'static str,
    summoned: &'static str,
    latest: &'static str,
    none_yet: &'static str,
    kiosks: &'static str,
    online: &'static str,
    offline: &'static str,
    waiting: &'static str,
    single_file: &'static str,
    no_kiosk: &'static str,
    ledger_lost: &'static str,
    download_csv: &'static str,
    download_xlsx: &'static str,
    download_pdf: &'static str,
    download_report: &'static str,
    projector: &'static str,
    staff: &'static str,
    code: &'static str,
    pin: &'static str,
    reason: &'static str,
    check_in: &'static str,
    undo: &'static str,
    session: &'static str,
    live: &'static str,
    back: &'static str,
    arrivals: &'static str,
    hall: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Vi => Words {
            lang: "vi",
            other: "English",
            other_code: "en",
            present: "Đại biểu có mặt",
            attendance: "Tỷ lệ có mặt",
            met: "ĐỦ điều kiện",
            not_met: "KHÔNG ĐỦ điều kiện",
            rule: "Quy định: có mặt quá {}% số đại biểu được triệu tập",
            by_delegation: "Theo đoàn",
            delegation: "Đoàn",
            summoned: "Triệu tập",
            latest: "Điểm danh gần nhất",
            none_yet: "Chưa có ai điểm danh",
            kiosks: "Máy điểm danh",
            online: "trực tuyến",
            offline: "mất kết nối",
            waiting: "chờ gửi",
            single_file: "Một máy, một tệp dữ liệu",
            no_kiosk: "Chưa có máy điểm danh nào báo về",
            ledger_lost: "Mất kết nối tới sổ điểm danh chung — số liệu có thể chưa mới",
            download_csv: "Tải danh sách (CSV)",
            download_xlsx: "Tải danh sách (Excel)",
            download_pdf: "Danh sách để ký (PDF)",
            download_report: "Báo cáo thẩm tra tư cách (PDF)",
            projector: "Màn chiếu",
            staff: "Điểm danh thủ công / hủy điểm danh (cần mã PIN quản trị)",
            code: "Mã đại biểu",
            pin: "Mã PIN",
            reason: "Lý do hủy",
            check_in: "Điểm danh",
            undo: "Hủy điểm danh",
            session: "Phiên",
            live: "Cập nhật trực tiếp",
            back: "Quay lại",
            arrivals: "Đại biểu đến theo thời gian",
            hall: "Sơ đồ hội trường",
        },
        Lang::En => Words {
            lang: "en",
            other: "Tiếng Việt",
            other_code: "vi",
            present: "Delegates present",
            attendance: "Attendance",
            met: "QUORUM MET",
            not_met: "QUORUM NOT MET",
            rule: "Rule: more than {}% of the summoned delegates present",
            by_delegation: "By delegation",
            delegation: "Delegation",
            summoned: "Summoned",
            latest: "Latest check-ins",
            none_yet: "Nobody has checked in yet",
            kiosks: "Kiosks",
            online: "online",
            offline: "offline",
            waiting: "waiting",
            single_file: "One kiosk, one data file",
            no_kiosk: "No kiosk has reported yet",
            ledger_lost: "The shared ledger cannot be reached — figures may be behind",
            download_csv: "Download the list (CSV)",
            download_xlsx: "Download the list (Excel)",
            download_pdf: "The list to sign (PDF)",
            download_report: "Credentials report (PDF)",
            projector: "Projector",
            staff: "Manual check-in / undo (admin PIN)",
            code: "Delegate code",
            pin: "PIN",
            reason: "Reason for the undo",
            check_in: "Check in",
            undo: "Undo check-in",
            session: "Session",
            live: "Live",
            back: "Back",
            arrivals: "Arrivals over time",
            hall: "Hall plan",
        },
    }
}

fn delegation_rows(f: &Figures, lang: Lang) -> String {
    f.by_delegation
        .iter()
        .map(|d| {
            let pct = percent(d.present, d.summoned);
            format!(
                "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                esc(&d.delegation),
                d.present,
                d.summoned,
                lang.percent(pct)
            )
        })
        .collect()
}

fn latest_rows(f: &Figures, w: &Words, lang: Lang) -> String {
    if f.latest.is_empty() {
        return format!("<li class=muted>{}</li>", w.none_yet);
    }
    f.latest
        .iter()
        .map(|l| {
            format!(
                "<li><b>{}</b> {} — {} <span class=muted>({}, {})</span></li>",
                esc(&l.time),
                esc(&l.name),
                esc(&l.delegation),
                esc(&l.code),
                lang.method(l.method)
            )
        })
        .collect()
}

fn kiosk_rows(f: &Figures, w: &Words) -> String {
    if f.kiosks.is_empty() {
        return format!("<li class=muted>{}</li>", if f.shared { w.no_kiosk } else { w.single_file });
    }
    f.kiosks
        .iter()
        .map(|k| {
            let (class, state) = if k.online { ("on", w.online) } else { ("off", w.offline) };
            format!("<li class={class}>● {} — {state}, {} {}</li>", esc(&k.id), w.waiting, k.waiting)
        })
        .collect()
}

/// The whole page, with `f` drawn in; `projector` is the hall's view: the
/// totals and the verdict in large type, nothing to click.
pub fn render(event: &str, f: &Figures, sessions: &[String], lang: Lang, projector: bool) -> String {
    let w = words(lang);
    let session_q = query_value(&f.session);
    let verdict = if f.quorum_met { w.met } else { w.not_met };
    let rule = w.rule.replace("{}", &lang.number(f.quorum_above_percent.to_string()));
    let session_links: String = sessions
        .iter()
        .map(|s| {
            let current = if *s == f.session { " class=current" } else { "" };
            format!("<a{current} href=\"/?session={}&lang={}\">{}</a> ", query_value(s), w.lang, esc(s))
        })
        .collect();
    let words_json = serde_json::json!({
        "met": w.met, "not_met": w.not_met, "online": w.online, "offline": w.offline,
        "waiting": w.waiting, "none_yet": w.none_yet, "single_file": w.single_file, "no_kiosk": w.no_kiosk,
        "decimal_mark": lang.number(".".into()),
        "methods": Method::ALL.iter().map(|&m| (m.as_str(), lang.method(m))).collect::<std::collections::BTreeMap<_, _>>(),
    });
    let data = json_in_html(&serde_json::json!({"words": words_json, "session": f.session, "figures": f}));
    let body_class = if projector { "projector" } else { "desk" };
    let desk_only = if projector {
        String::new()
    } else {
        format!(
            r#"<section class="card wide">
  <a class=button href="/list.csv?session={session_q}">{csv}</a>
  <a class=button href="/list.xlsx?session={session_q}&amp;lang={lang}">{xlsx}</a>
  <a class=button href="/list.pdf?session={session_q}&amp;lang={lang}">{pdf}</a>
  <a class=button href="/report.pdf?session={session_q}&amp;lang={lang}">{report}</a>
  <details><summary>{staff}</summary>
    <form method=post action="/checkin"><input type=hidden name=session value="{session}"><input type=hidden name=lang value="{lang}">
      <label>{code} <input name=code required></label> <label>{pin} <input name=pin type=password inputmode=numeric required></label>
      <button>{check_in}</button></form>
    <form method=post action="/undo"><input type=hidden name=session value="{session}"><input type=hidden name=lang value="{lang}">
      <label>{code} <input name=code required></label> <label>{pin} <input name=pin type=password inputmode=numeric required></label>
      <label>{reason} <input name=reason></label> <button>{undo}</button></form>
  </details>
</section>"#,
            csv = w.download_csv,
            xlsx = w.download_xlsx,
            pdf = w.download_pdf,
            report = w.download_report,
            staff = w.staff,
            session = esc(&f.session),
            lang = w.lang,
            code = w.code,
            pin = w.pin,
            check_in = w.check_in,
            reason = w.reason,
            undo = w.undo,
        )
    };
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name=viewport content="width=device-width, initial-scale=1">
<title>{event_e} — {session_e}</title>
<style>
body {{ font-family: "Noto Sans", "DejaVu Sans", sans-serif; margin: 0; background: #f6f4f1; color: #1d1d1d; }}
header {{ background: #b01820; color: white; padding: 12px 24px; display: flex; flex-wrap: wrap; gap: 16px; align-items: baseline; }}
header h1 {{ margin: 0; font-size: 1.5em; flex: 1; }}
header a {{ color: white; }}
nav a {{ margin-right: 8px; color: #b01820; }} nav a.current {{ font-weight: bold; text-decoration: none; }}
main {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; padding: 16px 24px; }}
.card {{ background: white; border-radius: 8px; padding: 16px 20px; box-shadow: 0 1px 3px #0002; }}
.wide {{ grid-column: 1 / -1; }}
.total {{ font-size: 4em; font-weight: bold; }}
.verdict {{ display: inline-block; padding: 6px 16px; border-radius: 6px; font-weight: bold; font-size: 1.4em; }}
.met {{ background: #1e8c3c; color: white; }} .not_met {{ background: #c85a00; color: white; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ padding: 4px 8px; border-bottom: 1px solid #eee; text-align: left; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
ul {{ list-style: none; padding: 0; margin: 0; }} li {{ padding: 3px 0; }}
.muted {{ color: #777; }} .on {{ color: #1e8c3c; }} .off {{ color: #c85a00; font-weight: bold; }}
.button {{ display: inline-block; background: #b01820; color: white; padding: 8px 14px; border-radius: 6px; text-decoration: none; margin-right: 8px; }}
form {{ margin: 10px 0; }} input {{ font-size: 1em; padding: 4px; }}
#lost {{ display: none; background: #c85a00; color: white; padding: 8px 24px; }}
img.picture {{ display: block; width: 100%; height: auto; }}
body.desk .chart {{ grid-column: span 2; }} body.desk img.picture {{ max-height: 420px; object-fit: contain; }}
/* The projector: one screen, never scrolled, at any size and any number of
   delegations; the pictures shrink into their quarter of the screen. */
body.projector {{ font-size: clamp(14px, 2.4vh, 30px); height: 100vh; overflow: hidden; display: flex; flex-direction: column; }}
body.projector main {{ flex: 1; min-height: 0; grid-template-columns: 1fr 1fr; grid-template-rows: 1fr 1fr; padding: 1.5vh 2vw; gap: 1.5vh; }}
body.projector .card {{ min-height: 0; overflow: hidden; display: flex; flex-direction: column; padding: 1vh 1.2vw; }}
body.projector .card h2 {{ margin: 0 0 0.5vh; font-size: 1.1em; }}
body.projector img.picture {{ flex: 1; min-height: 0; height: 100%; object-fit: contain; }}
body.projector .total {{ font-size: 4em; }} body.projector .desk-only {{ display: none; }}
</style></head>
<body class="{body_class}">
<header><h1>{event_e}</h1><span>{session_label}: <b id=session>{session_e}</b></span>
<span class=muted style="color:#fdd">● {live}</span>
<a href="/?session={session_q}&lang={other_code}{view_q}">{other}</a>
<a href="/?session={session_q}&lang={lang}&view=projector">{projector_label}</a></header>
<div id=lost>{ledger_lost}</div>
{nav}
<main>
<section class="card">
  <div>{present_label}</div>
  <div class=total><span id=present>{present}</span> / <span id=summoned>{summoned}</span></div>
  <div>{attendance}: <b id=percent>{percent}</b></div>
  <p><span id=verdict class="verdict {verdict_class}">{verdict}</span></p>
  <div class=muted>{rule}</div>
</section>
<section class="card chart"><h2>{arrivals}</h2><img class=picture data-chart="/arrivals.svg" src="/arrivals.svg?{chart_q}" alt="{arrivals}"></section>
<section class="card chart"><h2>{by_delegation}</h2><img class=picture data-chart="/delegations.svg" src="/delegations.svg?{chart_q}" alt="{by_delegation}">
<table class=desk-only><thead><tr><th>{delegation}</th><th class=n>{present_short}</th><th class=n>{summoned_label}</th><th class=n>%</th></tr></thead>
<tbody id=delegations>{delegation_rows}</tbody></table></section>
<section class="card chart"><h2>{hall}</h2><img class=picture data-chart="/hall.svg" src="/hall.svg?{chart_q}" alt="{hall}"></section>
<section class="card desk-only"><h2>{latest}</h2><ul id=latest>{latest_rows}</ul></section>
<section class="card desk-only"><h2>{kiosks}</h2><ul id=kiosks>{kiosk_rows}</ul></section>
{desk_only}
</main>
<script type="application/json" id=page-data>{data}</script>
<script src="/page.js"></script>
</body></html>
"#,
        lang = w.lang,
        event_e = esc(event),
        session_e = esc(&f.session),
        session_label = w.session,
        live = w.live,
        other_code = w.other_code,
        other = w.other,
        view_q = if projector { "&view=projector" } else { "" },
        projector_label = w.projector,
        ledger_lost = w.ledger_lost,
        nav = if projector || sessions.len() < 2 {
            String::new()
        } else {
            format!("<nav style=\"padding: 8px 24px\">{session_links}</nav>")
        },
        present_label = w.present,
        present = f.present,
        summoned = f.summoned,
        attendance = w.attendance,
        percent = lang.percent(f.quorum_percent),
        verdict_class = if f.quorum_met { "met" } else { "not_met" },
        by_delegation = w.by_delegation,
        delegation = w.delegation,
        present_short = if lang == Lang::Vi { "Có mặt" } else { "Present" },
        summoned_label = w.summoned,
        delegation_rows = delegation_rows(f, lang),
        latest = w.latest,
        latest_rows = latest_rows(f, &w, lang),
        kiosks = w.kiosks,
        kiosk_rows = kiosk_rows(f, &w),
        arrivals = w.arrivals,
        hall = w.hall,
        chart_q = format!("session={session_q}&amp;lang={}", w.lang),
    )
}

/// The page's script, served as `/page.js`: one fixed file, so that the
/// Content-Security-Policy can allow it and no script written into a page.
/// It reads the page's words and figures from the `page-data` block.
pub const SCRIPT: &str = r#"const DATA = JSON.parse(document.getElementById('page-data').textContent);
const W = DATA.words;
const S = DATA.session;
// 3,8% in Vietnamese, 3.8% in English, as the server writes them.
function pct(v) { return v.toFixed(1).replace('.', W.decimal_mark) + '%'; }
function el(tag, text, cls) { const e = document.createElement(tag); e.textContent = text; if (cls) e.className = cls; return e; }
function show(f) {
  document.getElementById('present').textContent = f.present;
  document.getElementById('summoned').textContent = f.summoned;
  document.getElementById('percent').textContent = pct(f.quorum_percent);
  const v = document.getElementById('verdict');
  v.textContent = f.quorum_met ? W.met : W.not_met;
  v.className = 'verdict ' + (f.quorum_met ? 'met' : 'not_met');
  document.getElementById('lost').style.display = f.ledger_online ? 'none' : 'block';
  const d = document.getElementById('delegations'); d.replaceChildren();
  for (const x of f.by_delegation) {
    const tr = document.createElement('tr');
    const share = x.summoned ? (100 * x.present / x.summoned) : 0;
    tr.append(el('td', x.delegation), el('td', x.present, 'n'), el('td', x.summoned, 'n'), el('td', pct(share), 'n'));
    d.append(tr);
  }
  const l = document.getElementById('latest'); l.replaceChildren();
  if (!f.latest.length) l.append(el('li', W.none_yet, 'muted'));
  for (const x of f.latest) {
    const li = document.createElement('li');
    li.append(el('b', x.time), ' ' + x.name + ' — ' + x.delegation + ' ', el('span', '(' + x.code + ', ' + W.methods[x.method] + ')', 'muted'));
    l.append(li);
  }
  const k = document.getElementById('kiosks'); k.replaceChildren();
  if (!f.kiosks.length) k.append(el('li', f.shared ? W.no_kiosk : W.single_file, 'muted'));
  for (const x of f.kiosks) {
    k.append(el('li', '● ' + x.id + ' — ' + (x.online ? W.online : W.offline) + ', ' + W.waiting + ' ' + x.waiting, x.online ? 'on' : 'off'));
  }
  document.body.dataset.updates = (Number(document.body.dataset.updates || 0) + 1).toString();
  redraw();
}
// The pictures are drawn by the server: asked for again when the figures
// change, at most every two seconds (the hall of a big congress is heavy).
let drawn = Date.now(), pending = false, version = 0;
function redraw() {
  if (pending) return;
  const wait = Math.max(0, drawn + 2000 - Date.now());
  pending = true;
  setTimeout(() => {
    pending = false; drawn = Date.now(); version += 1;
    const q = 'session=' + encodeURIComponent(S) + '&lang=' + document.documentElement.lang + '&v=' + version;
    for (const img of document.querySelectorAll('img[data-chart]')) img.src = img.dataset.chart + '?' + q;
    document.body.dataset.redrawn = version.toString();
  }, wait);
}
show(DATA.figures);
const source = new EventSource('/events?session=' + encodeURIComponent(S));
source.addEventListener('figures', e => show(JSON.parse(e.data)));
"#;

/// JSON to put inside an HTML element: `<`, `>` and `&` written as `\u003c`,
/// `\u003e` and `\u0026`, so that no value (a delegation named
/// `</script>` or `<!--`) can end the block or change how it is read.
pub fn json_in_html(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Why a staff form was turned away before it was looked at.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    WrongPin,
    ShutOut,
}

pub fn refusal(why: Refusal, lang: Lang) -> String {
    let minutes = crate::base::pin::LOCKOUT.as_secs() / 60;
    let tries = crate::base::pin::TRIES;
    match (why, lang) {
        (Refusal::WrongPin, Lang::Vi) => {
            format!("Sai mã PIN. Nhập sai {tries} lần thì máy này bị khóa {minutes} phút.")
        }
        (Refusal::WrongPin, Lang::En) => {
            format!("Wrong PIN. After {tries} wrong ones this computer is locked out for {minutes} minutes.")
        }
        (Refusal::ShutOut, Lang::Vi) => {
            format!("Đã nhập sai mã PIN quá nhiều lần: máy này bị khóa, xin thử lại sau {minutes} phút.")
        }
        (Refusal::ShutOut, Lang::En) => {
            format!("Too many wrong PINs: this computer is locked out; try again in {minutes} minutes.")
        }
    }
}

/// The answer to a reader without the viewer key: how to get in, nothing more.
pub fn key_needed() -> String {
    r#"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cần khóa xem / Viewer key needed</title>
<style>body { font-family: "Noto Sans", sans-serif; padding: 40px; font-size: 22px; max-width: 46em; }</style></head>
<body><h1>Cần khóa xem / Viewer key needed</h1>
<p>Trang điểm danh chỉ mở bằng đường dẫn có khóa xem. Xin hỏi ban thư ký: đường dẫn do lệnh <code>kiosk dashboard key</code> in ra.</p>
<p>This attendance page opens only with the link that carries its viewer key. Ask the secretariat: <code>kiosk dashboard key</code> prints it.</p>
</body></html>"#
        .to_string()
}

/// The answer to a check-in or undo made on the page, with the way back.
pub fn outcome(session: &str, lang: Lang, out: std::result::Result<String, String>) -> String {
    let w = words(lang);
    let (class, text) = match &out {
        Ok(t) => ("on", t.as_str()),
        Err(e) => ("off", e.as_str()),
    };
    let back = format!("/?session={}&lang={}", query_value(session), w.lang);
    format!(
        r#"<!doctype html><html lang="{}"><head><meta charset="utf-8"><meta http-equiv="refresh" content="4; url={back}">
<style>body {{ font-family: "Noto Sans", sans-serif; padding: 40px; font-size: 22px; }} .on {{ color: #1e8c3c; }} .off {{ color: #c85a00; }}</style></head>
<body><p class={class}>{}</p><p><a href="{back}">{}</a></p></body></html>"#,
        w.lang,
        esc(text),
        w.back
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_text_cannot_become_markup() {
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        assert_eq!(query_value("Phiên 1&x"), "Phi%C3%AAn%201%26x");
    }

    #[test]
    fn figures_inside_the_page_cannot_end_their_block() {
        let name = "D<!--<script></script>&";
        let json = json_in_html(&serde_json::json!({ "delegation": name }));
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["delegation"], name, "the same text once read");
    }
}
