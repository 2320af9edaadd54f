//! Unit tests of the health state machine, one rule at a time.

use super::{HealthMachine, HealthState, Level};
use crate::twin::{
    AlarmState, Cause, ChannelCheck, ChannelConfig, Dwell, Event, LimitForecast, Observation,
    Quality, RulEstimate, Score, TwinConfig, TwinError,
};

/// One channel `x` in mm/s, alarm at 50, failure above 90; short dwells.
fn config() -> TwinConfig {
    TwinConfig {
        commissioning_readings: 2,
        dwell_enter: Dwell::readings(2),
        dwell_exit: Dwell::readings(3),
        channels: vec![ChannelConfig {
            name: "x".to_owned(),
            unit: "mm/s".to_owned(),
            min: 0.0,
            max: 100.0,
            scored: true,
            alarm_above: Some(50.0),
            failure_above: Some(90.0),
            failure_below: None,
        }],
        ..TwinConfig::default()
    }
}

/// A machine that feeds itself observations one minute apart.
struct Feed {
    machine: HealthMachine,
    time_secs: f64,
}

impl Feed {
    fn new(config: TwinConfig) -> Self {
        Self {
            machine: HealthMachine::new(config).unwrap(),
            time_secs: 0.0,
        }
    }

    /// A commissioned machine in `Healthy`.
    fn healthy() -> Self {
        let mut feed = Self::new(config());
        let events = feed.scores(&[0.0, 0.0]);
        assert_eq!(events.len(), 1);
        assert!(matches!(
            events[0].cause,
            Cause::CommissioningComplete { readings: 2 }
        ));
        assert_eq!(feed.machine.state(), HealthState::Healthy);
        feed
    }

    fn next(&mut self, observation: Observation) -> Vec<Event> {
        self.time_secs += 60.0;
        self.machine.observe(&Observation {
            time_secs: self.time_secs,
            ..observation
        })
    }

    fn scores(&mut self, scores: &[f64]) -> Vec<Event> {
        let mut events = Vec::new();
        for &score in scores {
            events.extend(self.next(with_score(score)));
        }
        events
    }

    fn repeat(&mut self, observation: &Observation, times: usize) -> Vec<Event> {
        (0..times)
            .flat_map(|_| self.next(observation.clone()))
            .collect()
    }
}

fn check(value: f64, quality: Quality) -> ChannelCheck {
    ChannelCheck {
        channel: "x".to_owned(),
        value: Some(value),
        quality,
    }
}

fn with_score(score: f64) -> Observation {
    Observation {
        score: Some(Score {
            value: score,
            channel: Some("x".to_owned()),
        }),
        channels: vec![check(10.0, Quality::Ok)],
        ..Observation::default()
    }
}

fn states(events: &[Event]) -> Vec<HealthState> {
    events.iter().map(|event| event.to).collect()
}

#[test]
fn escalation_needs_the_dwell() {
    let mut feed = Feed::healthy();
    assert!(feed.scores(&[3.5]).is_empty());
    // The run is broken by one ordinary reading.
    assert!(feed.scores(&[1.0, 3.5]).is_empty());

    let events = feed.scores(&[3.5]);
    assert_eq!(states(&events), [HealthState::Watch]);
    let Cause::ScoreAbove {
        level, readings, ..
    } = &events[0].cause
    else {
        panic!("{:?}", events[0].cause);
    };
    assert_eq!((*level, *readings), (Level::Watch, 2));
    assert_eq!(
        events[0].reason,
        "anomaly score 3.5 on x above the watch level 3 for 2 readings"
    );
    // Watch is not an alarm.
    assert_eq!(events[0].alarm_to, AlarmState::Normal);
}

#[test]
fn the_hysteresis_band_holds_and_recovery_needs_the_dwell() {
    let mut feed = Feed::healthy();
    assert_eq!(states(&feed.scores(&[5.0, 5.0])), [HealthState::Warning]);

    // Between the warning exit (3) and enter (4.5) levels nothing moves.
    assert!(feed.scores(&[3.5; 20]).is_empty());
    assert!(feed.scores(&[2.5, 2.5]).is_empty());

    // Below the warning exit for 3 readings, not below the watch exit (2).
    let events = feed.scores(&[2.5]);
    assert_eq!(states(&events), [HealthState::Watch]);
    assert!(matches!(
        events[0].cause,
        Cause::Recovered {
            level: Level::Warning,
            readings: 3,
            ..
        }
    ));

    let events = feed.scores(&[1.0, 1.0, 1.0]);
    assert_eq!(states(&events), [HealthState::Healthy]);
    assert!(
        events[0]
            .reason
            .starts_with("anomaly score 1 below the watch exit level 2")
    );
}

#[test]
fn strong_evidence_skips_levels_both_ways() {
    let mut feed = Feed::healthy();
    assert_eq!(states(&feed.scores(&[8.0, 8.0])), [HealthState::Critical]);
    assert_eq!(
        states(&feed.scores(&[0.5, 0.5, 0.5])),
        [HealthState::Healthy]
    );
}

#[test]
fn rul_escalates_and_clears_only_beyond_the_exit_factor() {
    let mut feed = Feed::healthy();
    let rul = |lower: f64| Observation {
        rul: Some(RulEstimate {
            value: lower + 10.0,
            lower,
            upper: lower + 20.0,
        }),
        ..with_score(0.0)
    };

    let events = feed.repeat(&rul(40.0), 2);
    assert_eq!(states(&events), [HealthState::Warning]);
    assert!(matches!(
        events[0].cause,
        Cause::RulShort {
            level: Level::Warning,
            ..
        }
    ));
    assert_eq!(
        events[0].reason,
        "RUL could be as short as 40 cycles (estimate 50, band 40–60), \
         below the warning horizon of 50 cycles"
    );

    // 55 is beyond the horizon (50) but not beyond 1.2 × 50.
    assert!(feed.repeat(&rul(55.0), 10).is_empty());
    // 70 clears warning but is still within the watch horizon (100).
    assert_eq!(states(&feed.repeat(&rul(70.0), 3)), [HealthState::Watch]);
}

#[test]
fn a_limit_forecast_escalates_with_its_band_in_words() {
    let mut feed = Feed::healthy();
    let hour = 3600.0;
    let near = Observation {
        time_to_limit: Some(LimitForecast {
            channel: "x".to_owned(),
            limit: 50.0,
            secs: 5.0 * hour,
            lower_secs: 3.0 * hour,
            upper_secs: Some(9.0 * hour),
        }),
        ..with_score(0.0)
    };
    let events = feed.repeat(&near, 2);
    assert_eq!(states(&events), [HealthState::Warning]);
    assert_eq!(
        events[0].reason,
        "x forecast crosses 50 mm/s in ~5 h (band 3–9 h), within the warning horizon of 12 h"
    );
    assert_eq!(events[0].alarm_to, AlarmState::ActiveUnacked);
}

#[test]
fn sensor_fault_returns_to_the_state_it_left() {
    let mut feed = Feed::healthy();
    feed.scores(&[3.5, 3.5]);
    assert_eq!(feed.machine.state(), HealthState::Watch);

    let missing = Observation {
        channels: vec![ChannelCheck {
            channel: "x".to_owned(),
            value: None,
            quality: Quality::Missing,
        }],
        ..with_score(9.0)
    };
    assert!(feed.repeat(&missing, 1).is_empty());
    let events = feed.repeat(&missing, 1);
    assert_eq!(states(&events), [HealthState::SensorFault]);
    assert_eq!(events[0].alarm_to, AlarmState::ActiveUnacked);
    assert_eq!(
        events[0].reason,
        "x has no valid value; untrusted data for 2 readings"
    );

    // Scores while the data is untrusted, or just restored, do not count.
    assert!(feed.scores(&[9.0, 9.0]).is_empty());
    let events = feed.scores(&[3.5]);
    assert_eq!(states(&events), [HealthState::Watch]);
    assert!(matches!(
        events[0].cause,
        Cause::DataRestored { readings: 3 }
    ));
    assert_eq!(events[0].alarm_to, AlarmState::ClearedUnacked);
}

#[test]
fn a_failure_limit_needs_the_dwell_and_valid_data() {
    let mut feed = Feed::healthy();
    let high = |quality| Observation {
        channels: vec![check(95.0, quality)],
        ..with_score(0.0)
    };
    // A stuck sensor at 95 is a sensor fault, not a failure.
    let events = feed.repeat(&high(Quality::Stuck), 2);
    assert_eq!(states(&events), [HealthState::SensorFault]);

    let mut feed = Feed::healthy();
    assert!(feed.repeat(&high(Quality::Ok), 1).is_empty());
    let events = feed.repeat(&high(Quality::Ok), 1);
    assert_eq!(states(&events), [HealthState::Failed]);
    assert_eq!(
        events[0].reason,
        "x 95 mm/s above the failure limit 90 mm/s for 2 readings"
    );
    assert!(events[0].cause.is_failure());
}

#[test]
fn only_maintenance_leaves_failed() {
    let mut feed = Feed::healthy();
    let event = feed.machine.report_failure(1.0, "motor trip").unwrap();
    assert_eq!(event.to, HealthState::Failed);
    assert_eq!(event.reason, "failure reported: motor trip");
    assert!(feed.machine.report_failure(2.0, "again").is_none());
    assert!(feed.scores(&[0.0; 10]).is_empty());
    assert!(matches!(
        feed.machine.finish_maintenance(3.0, false),
        Err(TwinError::NotInMaintenance)
    ));

    let started = feed.machine.start_maintenance(4.0, "bearing swap").unwrap();
    assert_eq!(started.to, HealthState::Maintenance);
    assert_eq!(started.alarm_to, AlarmState::ClearedUnacked);
    assert!(matches!(
        feed.machine.start_maintenance(5.0, ""),
        Err(TwinError::AlreadyInMaintenance)
    ));
    assert!(feed.scores(&[9.0; 5]).is_empty());

    let kept = feed.machine.clone().finish_maintenance(6.0, false).unwrap();
    assert_eq!(kept.to, HealthState::Healthy);
    assert!(!kept.reset_baseline());

    let reset = feed.machine.finish_maintenance(6.0, true).unwrap();
    assert_eq!(reset.to, HealthState::Commissioning);
    assert!(reset.reset_baseline());
}

#[test]
fn an_exhausted_rul_fails_the_asset() {
    let mut feed = Feed::healthy();
    let done = Observation {
        rul: Some(RulEstimate {
            value: 0.5,
            lower: 0.0,
            upper: 2.0,
        }),
        ..with_score(0.0)
    };
    // The RUL is within every horizon too, but failure is checked first.
    let events = feed.repeat(&done, 2);
    assert_eq!(states(&events), [HealthState::Failed]);
    assert!(matches!(
        events[0].cause,
        Cause::RulExhausted { readings: 2, .. }
    ));
}

#[test]
fn the_alarm_latches_and_sounds_again_on_escalation() {
    let mut feed = Feed::healthy();
    assert!(feed.machine.acknowledge(0.0, "").is_none());
    feed.scores(&[5.0, 5.0]);
    assert_eq!(feed.machine.alarm(), AlarmState::ActiveUnacked);

    let ack = feed.machine.acknowledge(1.0, "seen").unwrap();
    assert_eq!(
        (ack.from, ack.to),
        (HealthState::Warning, HealthState::Warning)
    );
    assert_eq!(ack.alarm_to, AlarmState::ActiveAcked);
    assert_eq!(ack.reason, "alarm acknowledged: seen");
    assert!(feed.machine.acknowledge(2.0, "").is_none());

    feed.scores(&[8.0, 8.0]);
    assert_eq!(feed.machine.state(), HealthState::Critical);
    assert_eq!(feed.machine.alarm(), AlarmState::ActiveUnacked);

    feed.scores(&[0.0; 3]);
    assert_eq!(feed.machine.state(), HealthState::Healthy);
    assert_eq!(feed.machine.alarm(), AlarmState::ClearedUnacked);
    let ack = feed.machine.acknowledge(3.0, "").unwrap();
    assert_eq!(ack.alarm_to, AlarmState::Normal);
}

#[test]
fn a_dwell_in_seconds_waits_for_the_time() {
    let mut config = config();
    config.dwell_enter = Dwell {
        readings: 1,
        secs: 300.0,
    };
    let mut feed = Feed::new(config);
    feed.scores(&[0.0, 0.0]);
    // Readings are a minute apart: the run starts at the first, and 300 s
    // have passed at the sixth.
    assert!(feed.scores(&[3.5; 5]).is_empty());
    assert_eq!(states(&feed.scores(&[3.5])), [HealthState::Watch]);
}
