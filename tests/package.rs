//! The Debian package that `tools/package.sh` builds (tools/test.sh builds it
//! before the tests): its files, conffile, units, lintian; and the window's
//! readiness and watchdog messages that its kiosk unit relies on.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// target/debian/kiosk_*.deb; None (said, or a failure in CI) when it was not built.
fn package() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debian");
    let found = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb") && p.to_string_lossy().contains("kiosk_"));
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "no package in {}: tools/test.sh builds it with tools/package.sh",
            dir.display()
        );
        println!("SKIPPED package: no .deb in {} (run tools/package.sh)", dir.display());
    }
    found
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

#[test]
fn the_package_holds_the_kiosk_its_models_settings_and_units() {
    let Some(deb) = package() else { return };
    let listing = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for file in [
        "./usr/bin/kiosk",
        "./usr/lib/kiosk/libonnxruntime.so.1.32.0",
        "./usr/share/kiosk/models/sface.onnx",
        "./usr/share/kiosk/models/retinaface_mnet025.onnx",
        "./usr/share/kiosk/models/minifasnet_v2_2.7.onnx",
        "./usr/share/kiosk/models/SOURCES.md",
        "./usr/share/kiosk/assets/logo.png",
        "./etc/kiosk/kiosk.toml",
        "./usr/lib/systemd/system/kiosk.service",
        "./usr/lib/systemd/system/kiosk-dashboard.service",
        "./usr/share/doc/kiosk/copyright",
    ] {
        assert!(listing.lines().any(|l| l.ends_with(file)), "{file} is not in the package:\n{listing}");
    }
    assert!(!listing.contains("./var/lib/kiosk"), "the data folder is made by postinst, not shipped");

    let control = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(control.path()));
    let read = |name: &str| std::fs::read_to_string(control.path().join(name)).unwrap();
    assert_eq!(read("conffiles").trim(), "/etc/kiosk/kiosk.toml");
    let fields = read("control");
    let depends = fields.lines().find(|l| l.starts_with("Depends:")).unwrap();
    assert!(depends.contains("cage") && depends.contains("adduser") && depends.contains("libegl1"), "{depends}");
    assert!(read("postinst").contains("adduser --system") && read("postinst").contains("/var/lib/kiosk"));
    assert!(read("prerm").contains("stop kiosk.service kiosk-dashboard.service"));
    // Only a purge deletes the data.
    let postrm = read("postrm");
    let purge = postrm.find("\"purge\" ]; then\n    rm -rf /var/lib/kiosk").expect("postrm deletes the data on purge");
    assert_eq!(postrm.matches("/var/lib/kiosk").count(), 1, "and nowhere else: {postrm}");
    assert!(purge > 0);

    let root = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root.path()));
    let settings = kiosk::config::Config::load(Some(&root.path().join("etc/kiosk/kiosk.toml"))).unwrap();
    assert_eq!(settings.store.database, Path::new("/var/lib/kiosk/kiosk.db"));
    let unit = std::fs::read_to_string(root.path().join("usr/lib/systemd/system/kiosk.service")).unwrap();
    for line in [
        "Type=notify",
        "NotifyAccess=all",
        "WatchdogSec=",
        "Restart=on-failure",
        "ExecStart=/usr/bin/cage",
        "User=kiosk",
        "TTYPath=/dev/tty1",
    ] {
        assert!(unit.contains(line), "kiosk.service has no {line}");
    }
    let dashboard =
        std::fs::read_to_string(root.path().join("usr/lib/systemd/system/kiosk-dashboard.service")).unwrap();
    for line in ["After=network-online.target", "Restart=on-failure", "ExecStart=/usr/bin/kiosk dashboard"] {
        assert!(dashboard.contains(line), "kiosk-dashboard.service has no {line}");
    }
}

/// `systemd-analyze verify` on the units as installed: the unpacked package
/// over a copy of this machine's own units, with cage where it will be.
#[test]
fn systemd_accepts_the_units() {
    let Some(deb) = package() else { return };
    let root = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root.path()));
    let units = root.path().join("usr/lib/systemd/system");
    run(Command::new("cp").arg("-rn").arg("/usr/lib/systemd/system/.").arg(&units));
    std::fs::copy("/usr/bin/cage", root.path().join("usr/bin/cage")).expect("cage is installed (tools/setup.sh)");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .arg(units.join("kiosk.service"))
        .arg(units.join("kiosk-dashboard.service"))
        .output()
        .unwrap();
    assert!(out.status.success() && stderr(&out).trim().is_empty(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn lintian_finds_no_error() {
    let Some(deb) = package() else { return };
    let out =
        Command::new("lintian").args(["--fail-on", "error", "--no-tag-display-limit"]).arg(&deb).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).lines().any(|l| l.starts_with("E:")), "{}", stdout(&out));
}

/// The kiosk unit waits for READY=1 and restarts a window whose WATCHDOG=1 stop.
#[test]
fn the_window_tells_systemd_it_is_ready_and_alive() {
    let Some(pad) = pad("sd_notify") else { return };
    if !xvfb_ok("sd_notify") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    live_frames(&pad, dir.path(), 8);
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_nonblocking(true).unwrap();
    // Only the kiosk gets the socket: Xvfb, built with systemd, would say READY=1 too.
    let notify = format!("NOTIFY_SOCKET={}", socket_path.display());
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", "env", &notify, env!("CARGO_BIN_EXE_kiosk")])
        .args(["run", "--frames", "frames", "--once"])
        .current_dir(dir.path())
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut said = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = socket.recv(&mut buf) {
        said.push(String::from_utf8_lossy(&buf[..n]).trim().to_string());
    }
    assert_eq!(said.first().map(String::as_str), Some("READY=1"), "{said:?}");
    assert!(said.iter().filter(|s| *s == "WATCHDOG=1").count() >= 1, "the window runs over a second: {said:?}");
    assert_eq!(said.iter().filter(|s| *s == "READY=1").count(), 1, "{said:?}");
}
