//! Accuracy on the real labelled photos of ../shared/faces, through the same
//! pipeline and decision rule as a check-in (`kiosk eval`). The bounds are the
//! product's targets where it meets them, and the present figures otherwise
//! (see README.md), so that a regression fails.

mod common;

use common::*;

fn eval(set: &str) -> Option<kiosk::measure::eval::Report> {
    let faces = faces(&format!("accuracy on {set}"))?;
    let cfg = kiosk::config::Config::default();
    let report =
        kiosk::measure::eval::evaluate(&cfg.engine, &cfg.quality, &cfg.decide, &faces.join(set), None, true).unwrap();
    println!("{report}");
    Some(report)
}

#[test]
fn lfw_dev_meets_the_accuracy_targets() {
    let Some(r) = eval("dev") else { return };
    assert_eq!(r.no_face, 0);
    assert!(r.verification[0].accuracy >= 0.992, "verification {}", r.verification[0].accuracy);
    assert!(r.fnir_at_fpir <= 0.06, "FNIR {}", r.fnir_at_fpir);
    assert!(r.rank1 >= 0.98, "rank-1 {}", r.rank1);
    assert!(r.shipped.impostor_accept <= 0.01, "impostors accepted {}", r.shipped.impostor_accept);
    assert!(r.shipped.delegate_refuse <= 0.08, "delegates refused {}", r.shipped.delegate_refuse);
    assert!(r.shipped.delegate_wrong <= 0.01, "delegates matched to someone else {}", r.shipped.delegate_wrong);
    // The badge's 1:1 check at the shipped threshold (tuned here for 1 in 10,000 stolen badges).
    let one = &r.one_to_one[0];
    assert_eq!(one.pairs_impostor.0, 0, "different-person pairs accepted 1:1");
    assert!(one.stolen.0 as f64 <= 1.5e-4 * one.stolen.1 as f64, "stolen badges accepted {:?}", one.stolen);
    assert!(one.holders.0 as f64 >= 0.97 * one.holders.1 as f64, "badge holders accepted {:?}", one.holders);
}

#[test]
fn east_asian_tight_crops_stay_at_their_measured_level() {
    let Some(r) = eval("asian_dev") else { return };
    // Target 90%; measured 89.3% (README.md). Guard against regressions.
    assert!(r.verification[0].accuracy >= 0.885, "verification {}", r.verification[0].accuracy);
    assert!(r.no_face <= 10, "{} photos without a face", r.no_face);
}
