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
    assert!(r.fnir_at_fpir <= 0.026, "FNIR {}", r.fnir_at_fpir);
    assert!(r.rank1 >= 0.98, "rank-1 {}", r.rank1);
    assert!(r.shipped.impostor_accept <= 0.01, "impostors accepted {}", r.shipped.impostor_accept);
    assert!(r.shipped.delegate_refuse <= 0.08, "delegates refused {}", r.shipped.delegate_refuse);
    assert!(r.shipped.delegate_wrong <= 0.01, "delegates matched to someone else {}", r.shipped.delegate_wrong);
    // The badge's 1:1 check at the shipped threshold (tuned here for 1 in 10,000 stolen badges).
    let one = &r.one_to_one[0];
    assert_eq!(one.pairs_impostor.0, 0, "different-person pairs accepted 1:1");
    assert!(one.stolen.0 as f64 <= 1.5e-4 * one.stolen.1 as f64, "stolen badges accepted {:?}", one.stolen);
    assert!(one.holders.0 as f64 >= 0.97 * one.holders.1 as f64, "badge holders accepted {:?}", one.holders);
    calibration_lands_where_it_aims(&r, true);
}

/// The event's calibration, made on half the gallery (cut at random, many
/// times), accepts strangers it never saw no more often than it aimed to,
/// at the kiosk's 0.3% and at the larger aims these sets can count; on
/// faces/dev it lands within a factor of 1.5 of each aim. (On the East-Asian
/// sets it lands lower: README.md, "The threshold is set for each event".)
fn calibration_lands_where_it_aims(r: &kiosk::measure::eval::Report, within_one_and_a_half: bool) {
    for target in [0.003, 0.01, 0.03] {
        let h = r.held_out.iter().find(|h| h.target == target).expect("checked at this target");
        let share = h.accepted as f64 / h.strangers as f64;
        assert!(h.interval[0] <= share && share <= h.interval[1], "{h:?}");
        assert!(share <= target, "{h:?}");
        assert!(h.expected <= target, "{h:?}");
        if within_one_and_a_half {
            assert!(share >= target / 1.5, "{h:?}");
        }
    }
}

#[test]
fn east_asian_portraits_meet_their_targets() {
    let Some(r) = eval("eastasia_dev") else { return };
    assert!(r.fnir_at_fpir <= 0.025, "FNIR {}", r.fnir_at_fpir);
    assert_eq!(r.shipped.impostor_accept, 0.0, "identify accepts no impostor");
    assert_eq!(r.calibrated.as_ref().unwrap().1.impostor_accept, 0.0);
    calibration_lands_where_it_aims(&r, false);
}

#[test]
fn east_asian_tight_crops_stay_at_their_measured_level() {
    let Some(r) = eval("asian_dev") else { return };
    // Target 91%; measured 91.17% (README.md). Guard against regressions.
    assert!(r.verification[0].accuracy >= 0.905, "verification {}", r.verification[0].accuracy);
    assert!(r.no_face <= 10, "{} photos without a face", r.no_face);
}
