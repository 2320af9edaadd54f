//! The `--fault` syntax of `twinlab twin --simulate`:
//! `KIND[:CHANNEL]@START[+STEPS][:VALUE]`.
//!
//! - `KIND` is `spike`, `drift`, `stuck`, `noise`, `dropout`,
//!   `load_change` or `sudden_failure`;
//! - `CHANNEL` (sensor faults only) is a column name (`vibration_mm_s`) or
//!   its first word (`vibration`);
//! - `START` is the simulator step it begins at (0-based, commissioning
//!   included), `STEPS` how many steps it lasts (omitted: to the end);
//! - `VALUE` is the spike's offset, the drift's rate per hour (both in the
//!   channel's unit), the noise multiplier or the new load set point in %.
//!
//! For example `drift:vibration_mm_s@600+400:0.5`, `load_change@900:95`,
//! `spike:temperature@300+5:8`, `sudden_failure@1500`.

use crate::twin::{Fault, FaultKind, SimChannel};

/// The help text of `--fault`.
pub(super) const FAULT_HELP: &str = "\
Inject a fault: KIND[:CHANNEL]@START[+STEPS][:VALUE] (repeatable).
KIND: spike:CH@S+N:OFFSET, drift:CH@S+N:RATE_PER_HOUR, stuck:CH@S+N,
noise:CH@S+N:FACTOR, dropout:CH@S+N, load_change@S+N:LOAD_PCT, sudden_failure@S.
CH is load, temperature, vibration or flow (or the column name, e.g. vibration_mm_s);
S is the 0-based simulator step (commissioning included); +N the steps it lasts
(omitted: to the end). Example: drift:vibration_mm_s@600+400:0.5";

/// Reads one `--fault` value.
pub(super) fn parse_fault(spec: &str) -> Result<Fault, String> {
    let fail = |detail: String| format!("fault `{spec}`: {detail}");
    let (head, tail) = spec
        .split_once('@')
        .ok_or_else(|| fail("no `@START` (e.g. drift:vibration@600+400:0.5)".to_owned()))?;
    let (kind, channel_name) = match head.split_once(':') {
        Some((kind, channel)) => (kind.trim(), Some(channel.trim())),
        None => (head.trim(), None),
    };
    let (timing, value) = match tail.split_once(':') {
        Some((timing, value)) => (timing.trim(), Some(value.trim())),
        None => (tail.trim(), None),
    };
    let (start, steps) = match timing.split_once('+') {
        Some((start, steps)) => (start, Some(steps)),
        None => (timing, None),
    };
    let at_step: u64 = start
        .trim()
        .parse()
        .map_err(|_| fail(format!("the start `{start}` is not a step number")))?;
    let duration_steps = match steps {
        Some(steps) => steps
            .trim()
            .parse()
            .map_err(|_| fail(format!("the length `{steps}` is not a number of steps")))?,
        None => u64::MAX,
    };
    let channel = || -> Result<SimChannel, String> {
        let name = channel_name.ok_or_else(|| {
            fail(format!(
                "{kind} needs a channel ({kind}:CHANNEL@…), one of {}",
                channel_names()
            ))
        })?;
        sim_channel(name).ok_or_else(|| {
            fail(format!(
                "unknown channel `{name}`; the simulator has {}",
                channel_names()
            ))
        })
    };
    let number = |what: &str| -> Result<f64, String> {
        let text =
            value.ok_or_else(|| fail(format!("{kind} needs :{what} at the end (…@S+N:{what})")))?;
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| fail(format!("the {what} `{text}` is not a number")))
    };
    let no_channel = |kind: &str| -> Result<(), String> {
        match channel_name {
            Some(_) => Err(fail(format!("{kind} takes no channel"))),
            None => Ok(()),
        }
    };
    let kind = match kind {
        "spike" => FaultKind::Spike {
            channel: channel()?,
            magnitude: number("OFFSET")?,
        },
        "drift" => FaultKind::Drift {
            channel: channel()?,
            rate_per_hour: number("RATE_PER_HOUR")?,
        },
        "stuck" => FaultKind::Stuck {
            channel: channel()?,
        },
        "noise" | "noise_burst" => FaultKind::NoiseBurst {
            channel: channel()?,
            factor: number("FACTOR")?,
        },
        "dropout" => FaultKind::Dropout {
            channel: channel()?,
        },
        "load_change" | "load" => {
            no_channel("load_change")?;
            FaultKind::LoadChange {
                load_pct: number("LOAD_PCT")?,
            }
        }
        "sudden_failure" | "failure" => {
            no_channel("sudden_failure")?;
            FaultKind::SuddenFailure
        }
        other => {
            return Err(fail(format!(
                "unknown kind `{other}`; use spike, drift, stuck, noise, dropout, load_change \
                 or sudden_failure"
            )));
        }
    };
    Ok(Fault::new(kind, at_step, duration_steps))
}

/// The simulator channel called `name` (column name or its first word).
fn sim_channel(name: &str) -> Option<SimChannel> {
    SimChannel::ALL.into_iter().find(|channel| {
        let full = channel.name();
        full == name || full.split('_').next() == Some(name)
    })
}

fn channel_names() -> String {
    SimChannel::ALL.map(SimChannel::name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads() {
        let drift = parse_fault("drift:vibration_mm_s@600+400:0.5").unwrap();
        assert_eq!(
            drift,
            Fault::new(
                FaultKind::Drift {
                    channel: SimChannel::Vibration,
                    rate_per_hour: 0.5
                },
                600,
                400
            )
        );
        let load = parse_fault("load_change@900:95").unwrap();
        assert_eq!(load.duration_steps, u64::MAX);
        assert_eq!(load.kind, FaultKind::LoadChange { load_pct: 95.0 });
        let spike = parse_fault("spike:temperature@300+5:-8").unwrap();
        assert_eq!(
            spike.kind,
            FaultKind::Spike {
                channel: SimChannel::Temperature,
                magnitude: -8.0
            }
        );
        for spec in [
            "stuck:flow@1+2",
            "noise:load@1+2:4",
            "dropout:flow_m3_h@1+2",
        ] {
            assert!(parse_fault(spec).is_ok(), "{spec}");
        }
        let failure = parse_fault("sudden_failure@1500").unwrap();
        assert_eq!(
            (failure.kind, failure.at_step),
            (FaultKind::SuddenFailure, 1500)
        );
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let cases = [
            ("drift:vibration", "no `@START`"),
            ("drift@600+10:0.5", "drift needs a channel"),
            ("drift:pressure@600:0.5", "unknown channel `pressure`"),
            ("drift:vibration@600+10", "needs :RATE_PER_HOUR"),
            ("drift:vibration@soon:0.5", "the start `soon`"),
            ("drift:vibration@6+x:0.5", "the length `x`"),
            ("spike:flow@6+1:big", "the OFFSET `big` is not a number"),
            ("load_change:flow@6:90", "load_change takes no channel"),
            ("leak:flow@6", "unknown kind `leak`"),
        ];
        for (spec, expected) in cases {
            let err = parse_fault(spec).unwrap_err();
            assert!(err.contains(expected), "{spec}: {err}");
            assert!(err.contains(spec), "{spec}: {err}");
        }
    }
}
