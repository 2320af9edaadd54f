//! The asset's alarm, with the states of an industrial alarm system
//! (ISA-18.2).
//!
//! The alarm's *condition* is on while the health state is `Warning`,
//! `Critical`, `Failed` or `SensorFault`. The alarm latches:
//!
//! | state | condition | acknowledged | next |
//! |---|---|---|---|
//! | `Normal` | off | – | condition on: `ActiveUnacked` |
//! | `ActiveUnacked` | on | no | acknowledge: `ActiveAcked`; condition off: `ClearedUnacked` |
//! | `ActiveAcked` | on | yes | condition off: `Normal`; worse state: `ActiveUnacked` |
//! | `ClearedUnacked` | off | no | acknowledge: `Normal`; condition on: `ActiveUnacked` |
//!
//! So the alarm returns to `Normal` only when it is both acknowledged and
//! cleared. An acknowledged alarm sounds again (`ActiveUnacked`) when the
//! asset gets worse (sensor fault, then warning, critical, failed), so an
//! operator never misses an escalation they have not seen.

use serde::{Deserialize, Serialize};

use super::state::HealthState;

/// Where the asset's alarm stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmState {
    /// No alarm.
    #[default]
    Normal,
    /// The condition is on and nobody has acknowledged it.
    ActiveUnacked,
    /// The condition is on and an operator has acknowledged it.
    ActiveAcked,
    /// The condition has cleared but nobody has acknowledged the alarm.
    ClearedUnacked,
}

impl AlarmState {
    /// The name used in exports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::ActiveUnacked => "active_unacked",
            Self::ActiveAcked => "active_acked",
            Self::ClearedUnacked => "cleared_unacked",
        }
    }

    /// Whether the condition is on.
    #[must_use]
    pub fn is_active(self) -> bool {
        matches!(self, Self::ActiveUnacked | Self::ActiveAcked)
    }

    /// Whether an operator still has to acknowledge the alarm.
    #[must_use]
    pub fn needs_acknowledgement(self) -> bool {
        matches!(self, Self::ActiveUnacked | Self::ClearedUnacked)
    }

    /// The alarm state after the health state changes from `from` to `to`.
    #[must_use]
    pub fn after_transition(self, from: HealthState, to: HealthState) -> Self {
        let condition = to.is_alarming();
        match self {
            Self::Normal | Self::ClearedUnacked if condition => Self::ActiveUnacked,
            Self::Normal => Self::Normal,
            Self::ActiveUnacked | Self::ClearedUnacked => {
                if condition {
                    Self::ActiveUnacked
                } else {
                    Self::ClearedUnacked
                }
            }
            Self::ActiveAcked => {
                if !condition {
                    Self::Normal
                } else if to.alarm_severity() > from.alarm_severity() {
                    Self::ActiveUnacked
                } else {
                    Self::ActiveAcked
                }
            }
        }
    }

    /// The alarm state after an operator acknowledges it, or `None` when
    /// there is nothing to acknowledge.
    #[must_use]
    pub fn acknowledged(self) -> Option<Self> {
        match self {
            Self::ActiveUnacked => Some(Self::ActiveAcked),
            Self::ClearedUnacked => Some(Self::Normal),
            Self::Normal | Self::ActiveAcked => None,
        }
    }
}

impl std::fmt::Display for AlarmState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::AlarmState::{ActiveAcked, ActiveUnacked, ClearedUnacked, Normal};
    use crate::twin::HealthState::{Critical, Healthy, Maintenance, SensorFault, Warning, Watch};

    #[test]
    fn latches_until_acknowledged_and_cleared() {
        let raised = Normal.after_transition(Watch, Warning);
        assert_eq!(raised, ActiveUnacked);

        // Clearing alone does not end it.
        let cleared = raised.after_transition(Warning, Watch);
        assert_eq!(cleared, ClearedUnacked);
        assert_eq!(cleared.acknowledged(), Some(Normal));

        // Acknowledging alone does not end it either.
        let acked = raised.acknowledged().unwrap();
        assert_eq!(acked, ActiveAcked);
        assert_eq!(acked.after_transition(Warning, Healthy), Normal);
        assert_eq!(acked.after_transition(Warning, Maintenance), Normal);
    }

    #[test]
    fn escalation_sounds_again_but_a_milder_state_does_not() {
        assert_eq!(
            ActiveAcked.after_transition(Warning, Critical),
            ActiveUnacked
        );
        assert_eq!(ActiveAcked.after_transition(Critical, Warning), ActiveAcked);
        assert_eq!(
            ActiveAcked.after_transition(Warning, SensorFault),
            ActiveAcked
        );
        assert_eq!(
            ClearedUnacked.after_transition(Watch, Warning),
            ActiveUnacked
        );
        assert_eq!(Normal.after_transition(Healthy, Watch), Normal);
        assert_eq!(Normal.acknowledged(), None);
        assert_eq!(ActiveAcked.acknowledged(), None);
    }
}
