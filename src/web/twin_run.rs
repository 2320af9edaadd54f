//! The twin session in the worker: streams readings at the chosen speed and
//! posts what happened, a few times a second.
//!
//! One loop runs per session. Commands from the page are queued and the
//! loop applies them between two ticks, so the session is never touched by
//! two pieces of code at once, however long a step of the LSTM takes. A new
//! `twin_start` ends the running loop (its generation no longer matches).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use burn::tensor::Device;

use crate::ingest::{self, IngestOptions};
use crate::session::{OperatorAction, SourceSpec, TwinSession};

use super::messages::{self, FromWorker, TwinCommand, TwinSource, TwinStartRequest, TwinUpdate};
use super::{WebError, dom};

/// Milliseconds between two ticks of the loop.
const TICK_MS: i32 = 100;

/// Readings kept in the update after a reset.
const KEEP: usize = 720;

/// Most readings one tick streams, so that a high speed on fast data still
/// lets the page breathe.
const MOST_PER_TICK: usize = 400;

/// The page's commands for the running session.
#[derive(Debug, Default)]
pub(super) struct TwinRunner {
    commands: RefCell<VecDeque<TwinCommand>>,
    generation: Cell<u64>,
}

impl TwinRunner {
    /// Queues `command` for the running loop.
    pub(super) fn command(&self, command: TwinCommand) {
        self.commands.borrow_mut().push_back(command);
    }

    /// Starts a session, ending the one before.
    pub(super) fn start(self: &Rc<Self>, request: TwinStartRequest, post: fn(&FromWorker)) {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        self.commands.borrow_mut().clear();
        let runner = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(err) = runner.run(request, generation, post).await {
                post(&FromWorker::failed(&err));
            }
        });
    }

    async fn run(
        &self,
        request: TwinStartRequest,
        generation: u64,
        post: fn(&FromWorker),
    ) -> Result<(), WebError> {
        // The stream forecasters are small: the CPU runs them without the
        // wait of reading results back from a GPU.
        let device = Device::flex();
        let (spec, labels) = source_spec(request.source).await?;
        let started = match request.resume {
            // A saved project: the same faults and actions, up to the same
            // reading.
            Some(history) => {
                TwinSession::resume(spec, request.config, history, KEEP, &device).await
            }
            None => TwinSession::start(spec, request.config, &device)
                .await
                .map(|session| (session, Vec::new())),
        };
        let (session, steps) =
            started.map_err(|err| WebError::Input(format!("the twin could not start: {err}")))?;
        let mut state = Loop {
            session,
            playing: request.playing,
            speed: request.speed.clamp(1.0, 10_000.0),
            owed: 0.0,
            labels,
        };
        post(&state.update(steps, Vec::new(), true, None));

        while self.generation.get() == generation {
            let commands: Vec<TwinCommand> = self.commands.borrow_mut().drain(..).collect();
            for command in commands {
                match state.apply(command).await {
                    Ok(update) => post(&update),
                    Err(err) => post(&FromWorker::failed(&err)),
                }
            }
            if state.playing {
                let steps = state.tick().await?;
                if !steps.is_empty() || state.session.finished() {
                    let note = state
                        .session
                        .finished()
                        .then(|| "The replay reached the end of the file.".to_owned());
                    if state.session.finished() {
                        state.playing = false;
                    }
                    post(&state.update(steps, Vec::new(), false, note));
                }
            }
            dom::sleep(TICK_MS).await;
        }
        Ok(())
    }
}

/// A running session and how it is played.
struct Loop {
    session: TwinSession,
    playing: bool,
    speed: f64,
    /// Readings due but not yet streamed (a fraction carried over).
    owed: f64,
    labels: Vec<(f64, f64)>,
}

impl Loop {
    /// Streams the readings one tick is worth at the set speed.
    async fn tick(&mut self) -> Result<Vec<crate::live::Step>, WebError> {
        let step_secs = self.session.step_secs().max(1e-9);
        self.owed += self.speed * f64::from(TICK_MS) / 1000.0 / step_secs;
        let due = self.owed.floor().min(MOST_PER_TICK as f64);
        self.owed = (self.owed - due).min(MOST_PER_TICK as f64);
        let count = due as usize;
        if count == 0 {
            return Ok(Vec::new());
        }
        self.session
            .advance(count)
            .await
            .map_err(|err| WebError::Input(format!("the twin stopped: {err}")))
    }

    async fn apply(&mut self, command: TwinCommand) -> Result<FromWorker, WebError> {
        let failed = |err: crate::session::SessionError| WebError::Input(err.to_string());
        let mut steps = Vec::new();
        let mut events = Vec::new();
        let mut reset = false;
        let note = match command {
            TwinCommand::Play => {
                self.playing = !self.session.finished();
                None
            }
            TwinCommand::Pause => {
                self.playing = false;
                None
            }
            TwinCommand::Step => {
                self.playing = false;
                steps = self.session.advance(1).await.map_err(failed)?;
                None
            }
            TwinCommand::Speed { factor } => {
                if factor.is_finite() {
                    self.speed = factor.clamp(1.0, 10_000.0);
                }
                None
            }
            TwinCommand::Seek { to } => {
                steps = self.session.seek(to, KEEP).await.map_err(failed)?;
                reset = true;
                Some(format!("Moved to reading {}.", self.session.position()))
            }
            TwinCommand::Inject { kind, duration } => {
                let fault = self.session.inject(kind, duration).map_err(failed)?;
                Some(format!(
                    "Injected {} from step {} for {} readings.",
                    fault_name(&fault.kind),
                    fault.at_step,
                    fault.duration_steps
                ))
            }
            TwinCommand::Act { action } => {
                let event = self.session.act(action).map_err(failed)?;
                let note = match (action, &event) {
                    (OperatorAction::Acknowledge, None) => {
                        Some("There is no alarm to acknowledge.".to_owned())
                    }
                    (OperatorAction::Adaptation { enabled: true }, _) => {
                        Some("The model adapts to new readings.".to_owned())
                    }
                    (OperatorAction::Adaptation { enabled: false }, _) => {
                        Some("The model no longer adapts.".to_owned())
                    }
                    _ => None,
                };
                events.extend(event);
                note
            }
        };
        Ok(self.update(steps, events, reset, note))
    }

    fn update(
        &self,
        steps: Vec<crate::live::Step>,
        events: Vec<crate::twin::Event>,
        reset: bool,
        note: Option<String>,
    ) -> FromWorker {
        let live = self.session.live();
        let twin = live.twin();
        // After a reset the page starts again from the whole log.
        let events = if reset {
            twin.log().events().to_vec()
        } else {
            events
        };
        let update = TwinUpdate {
            reset,
            channels: self.session.channels().to_vec(),
            steps,
            events,
            ahead: live.ahead().cloned(),
            state: twin.state(),
            alarm: twin.alarm(),
            time_to_limit: twin
                .last_observation()
                .and_then(|observation| observation.time_to_limit.clone()),
            position: self.session.position(),
            total: self.session.total(),
            playing: self.playing,
            speed: self.speed,
            adaptations: live.adaptations(),
            step_secs: self.session.step_secs(),
            labels: self.labels.clone(),
            note,
            twin_config: reset.then(|| twin.config().clone()),
            history: self.session.history(),
        };
        match messages::encode_twin_update(&update) {
            Ok(bytes) => FromWorker::TwinUpdate {
                bytes: bytes.into(),
            },
            Err(err) => FromWorker::failed(&err),
        }
    }
}

/// A fault's kind in words.
fn fault_name(kind: &crate::twin::FaultKind) -> String {
    use crate::twin::FaultKind;
    match kind {
        FaultKind::Spike { channel, .. } => format!("a spike on {}", channel.name()),
        FaultKind::Drift { channel, .. } => format!("a drift of {}", channel.name()),
        FaultKind::Stuck { channel } => format!("a stuck {} sensor", channel.name()),
        FaultKind::NoiseBurst { channel, .. } => format!("a noise burst on {}", channel.name()),
        FaultKind::Dropout { channel } => format!("a dropout of {}", channel.name()),
        FaultKind::SuddenFailure => "a sudden failure".to_owned(),
        FaultKind::LoadChange { load_pct } => format!("a load change to {load_pct} %"),
    }
}

/// The session's source and its labelled windows.
async fn source_spec(source: TwinSource) -> Result<(SourceSpec, Vec<(f64, f64)>), WebError> {
    match source {
        TwinSource::Simulator { config } => Ok((SourceSpec::Simulator { config }, Vec::new())),
        TwinSource::Replay {
            file,
            channels,
            labels,
            max_bytes,
        } => {
            let options = IngestOptions {
                max_bytes,
                ..IngestOptions::default()
            };
            let bytes = file.bytes().await?;
            let dataset = ingest::parse(&file.name, &bytes, &options)
                .map_err(|source| WebError::Ingest {
                    name: file.name.clone(),
                    source,
                })?
                .dataset;
            let indices = if channels.is_empty() {
                (0..dataset.channels.len().min(8)).collect()
            } else {
                channels
                    .iter()
                    .map(|name| {
                        dataset.channel_index(name).ok_or_else(|| {
                            WebError::Input(format!("`{}` has no channel `{name}`", file.name))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            };
            Ok((
                SourceSpec::Replay {
                    dataset,
                    channels: indices,
                },
                labels,
            ))
        }
    }
}
