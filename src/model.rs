//! The LSTM forecaster: stacked LSTM layers and a linear head that forecasts
//! every horizon step of every target channel at once.
//!
//! The network is written against burn's backend-erased tensors, so the same
//! code runs on the CPU backend (flex) and on wgpu (WebGPU in the browser). Its
//! LSTM layer fuses the four gates: the input projection of the whole window is
//! one matrix product, and each time step adds one `[batch, hidden] × [hidden,
//! 4 hidden]` product, which keeps the number of small kernels per step low.
//!
//! The head predicts the change from the last observed value of each target,
//! so an untrained network starts as the persistence forecast and learns what
//! to add to it. This needs the target channels to be the first input features,
//! which the pipeline guarantees.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use serde::{Deserialize, Serialize};

mod cell;
mod inference;

use crate::prep::Sequences;
use crate::train::SplitMix64;

/// Errors from building or running the forecaster.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The configuration cannot describe a network.
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// Input data has a shape other than the network expects.
    #[error("input has {got} values, expected {expected} ({what})")]
    Shape {
        /// What was being checked.
        what: &'static str,
        /// Values the network expects.
        expected: usize,
        /// Values it was given.
        got: usize,
    },
    /// The backend failed to compute or to read back a result.
    #[error("the compute backend failed: {0}")]
    Backend(String),
}

/// What the head's outputs mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// The change from the last observed value of each target, which are the
    /// first input features (channel forecasting).
    #[default]
    Residual,
    /// The value itself, for targets that are not inputs (remaining useful
    /// life).
    Direct,
    /// A value at every step of a whole input sequence (the remaining useful
    /// life of a unit at each cycle of its history), see
    /// [`Forecaster::forward_sequence`]. The look-back does not apply.
    PerStep,
}

/// The shape of a forecaster: everything needed to rebuild it before loading
/// its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecasterConfig {
    /// Input features per time step (targets first, then the other channels).
    pub features: usize,
    /// Time steps of history the network reads.
    pub lookback: usize,
    /// Hidden units in each LSTM layer.
    pub hidden: usize,
    /// Stacked LSTM layers (at least one).
    pub layers: usize,
    /// Time steps forecast at once.
    pub horizon: usize,
    /// Forecast values per step: the first `targets` input features for
    /// [`OutputKind::Residual`], any number for [`OutputKind::Direct`].
    pub targets: usize,
    /// What the head forecasts.
    #[serde(default)]
    pub output: OutputKind,
    /// Share of hidden activations zeroed at random while training (between
    /// layers and before the head); 0 turns dropout off.
    #[serde(default)]
    pub dropout: f32,
}

impl ForecasterConfig {
    /// Checks that every size is usable.
    pub fn validate(&self) -> Result<(), ModelError> {
        let problem = if self.features == 0 {
            "at least one input feature is needed"
        } else if self.lookback == 0 {
            "the look-back must be at least one step"
        } else if self.hidden == 0 {
            "the hidden size must be at least 1"
        } else if self.layers == 0 {
            "at least one LSTM layer is needed"
        } else if self.horizon == 0 {
            "the horizon must be at least one step"
        } else if !(0.0..0.9).contains(&self.dropout) {
            "dropout must be at least 0 and below 0.9"
        } else if self.targets == 0 {
            "at least one target is needed"
        } else if self.output == OutputKind::Residual && self.targets > self.features {
            "the targets must be between 1 and the number of input features"
        } else {
            return Ok(());
        };
        Err(ModelError::Config(problem.to_owned()))
    }

    /// Builds a network with fresh weights on `device`, drawn from seed 0.
    pub fn init(&self, device: &Device) -> Result<Forecaster, ModelError> {
        self.init_seeded(0.0, 0, device)
    }

    /// Builds a network with fresh weights on `device`, drawn from `seed`
    /// by twinlab's own generator, not the backend's global one, so that
    /// two networks built at once on different threads (tests, an
    /// ensemble) still get the weights of their own seeds. `forget_bias` is
    /// added to the initial bias of every forget gate: above 0 the cells
    /// start out remembering (1 is the usual choice), which shortens the
    /// plateau before a network learns to use a long history.
    pub fn init_seeded(
        &self,
        forget_bias: f32,
        seed: u64,
        device: &Device,
    ) -> Result<Forecaster, ModelError> {
        self.validate()?;
        let mut rng = SplitMix64::new(seed ^ INIT_SALT);
        let layers = (0..self.layers)
            .map(|layer| {
                let input = if layer == 0 {
                    self.features
                } else {
                    self.hidden
                };
                LstmLayer::new(input, self.hidden, forget_bias, &mut rng, device)
            })
            .collect();
        let head = uniform_linear(
            &mut rng,
            self.hidden,
            self.horizon * self.targets,
            Some(&[]),
            device,
        );
        Ok(Forecaster {
            layers,
            head,
            horizon: self.horizon,
            targets: self.targets,
            residual: self.output == OutputKind::Residual,
            dropout: self.dropout,
        })
    }

    /// Values in one input window: `lookback × features`.
    #[must_use]
    pub fn input_len(&self) -> usize {
        self.lookback * self.features
    }

    /// Values in one forecast: `horizon × targets`.
    #[must_use]
    pub fn output_len(&self) -> usize {
        self.horizon * self.targets
    }
}

/// Mixed into a seed before drawing initial weights, so that they do not
/// repeat the batch order drawn from the same seed.
const INIT_SALT: u64 = 0x6C53_544D_5F49_4E49;

/// A `[inputs, outputs]` linear map with weights (and, when `bias` is given,
/// biases plus `bias[c]`, or plus 0 where `bias` is shorter) uniform in
/// `±1/√inputs`: the usual initialisation of LSTM and dense layers.
fn uniform_linear(
    rng: &mut SplitMix64,
    inputs: usize,
    outputs: usize,
    bias: Option<&[f32]>,
    device: &Device,
) -> Linear {
    let bound = 1.0 / (inputs.max(1) as f64).sqrt();
    let mut draw = || ((rng.next_unit() * 2.0 - 1.0) * bound) as f32;
    let weight: Vec<f32> = (0..inputs * outputs).map(|_| draw()).collect();
    let bias = bias.map(|shift| {
        (0..outputs)
            .map(|c| draw() + shift.get(c).copied().unwrap_or(0.0))
            .collect::<Vec<f32>>()
    });
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [inputs, outputs]),
            device,
        )),
        bias: bias.map(|values| {
            Param::from_tensor(Tensor::from_data(
                TensorData::new(values, [outputs]),
                device,
            ))
        }),
    }
}

/// One LSTM layer with its four gates fused into two linear maps.
#[derive(Module, Debug)]
pub struct LstmLayer {
    /// Input to gates, `[input, 4 × hidden]`, with the bias.
    input: Linear,
    /// Hidden state to gates, `[hidden, 4 × hidden]`, no bias.
    recurrent: Linear,
    /// Hidden units.
    hidden: usize,
}

impl LstmLayer {
    fn new(
        input: usize,
        hidden: usize,
        forget_bias: f32,
        rng: &mut SplitMix64,
        device: &Device,
    ) -> Self {
        // Gates are `[i, f, g, o]`, `hidden` each: the bias of the second
        // block starts `forget_bias` higher.
        let shift: Vec<f32> = (0..4 * hidden)
            .map(|c| if c / hidden == 1 { forget_bias } else { 0.0 })
            .collect();
        Self {
            input: uniform_linear(rng, input, 4 * hidden, Some(&shift), device),
            recurrent: uniform_linear(rng, hidden, 4 * hidden, None, device),
            hidden,
        }
    }

    /// The input-to-gate terms of every step of `x`, `[batch, seq, input]`,
    /// each `[batch, 4 × hidden]`.
    ///
    /// Without autodiff this is one product over the whole sequence, cut
    /// per step. While training, each step is projected on its own: cutting
    /// a tracked tensor per step would cost a full-size gradient per step in
    /// the backward pass (quadratic in the sequence length), while the input
    /// window itself is not tracked and cuts for free.
    fn project(&self, x: Tensor<3>) -> Vec<Tensor<2>> {
        let [batch, seq, input] = x.dims();
        if x.is_autodiff() {
            return (0..seq)
                .map(|t| {
                    let step = x.clone().narrow(1, t, 1).reshape([batch, input]);
                    self.input.forward(step)
                })
                .collect();
        }
        // One `[seq × batch, input]` product, time-major: each step's terms
        // are then a contiguous block of rows, which the cell reads in
        // place (a step cut from a batch-major result would be copied).
        let gates = self
            .input
            .forward(x.swap_dims(0, 1).reshape([seq * batch, input]));
        (0..seq)
            .map(|t| gates.clone().narrow(0, t * batch, batch))
            .collect()
    }

    /// The input-to-gate terms of steps that are already separate tensors
    /// (the hidden states of the layer below), each `[batch, input]`.
    fn project_steps(&self, steps: Vec<Tensor<2>>) -> Vec<Tensor<2>> {
        steps
            .into_iter()
            .map(|step| self.input.forward(step))
            .collect()
    }

    /// Runs the recurrence over the input-to-gate terms of each step
    /// (`[batch, 4 × hidden]`, see [`LstmLayer::project`]).
    ///
    /// Returns the hidden state `[batch, hidden]` after every step when
    /// `all_steps` is set, otherwise only after the last one.
    fn run(&self, gates_in: Vec<Tensor<2>>, all_steps: bool) -> Vec<Tensor<2>> {
        let Some(first) = gates_in.first() else {
            return Vec::new();
        };
        let [batch, _] = first.dims();
        let device = first.device();
        let hidden = self.hidden;
        // `h` then `c`, see `cell::step`.
        let mut state = Tensor::<2>::zeros([2 * batch, hidden], &device);
        let mut outputs = Vec::with_capacity(if all_steps { gates_in.len() } else { 1 });

        for step in gates_in {
            let h = state.clone().narrow(0, 0, batch);
            state = cell::step(step, self.recurrent.forward(h), state);
            if all_steps {
                outputs.push(state.clone().narrow(0, 0, batch));
            }
        }

        if !all_steps {
            outputs.push(state.narrow(0, 0, batch));
        }
        outputs
    }
}

/// The forecaster network: stacked LSTM layers and a linear head.
#[derive(Module, Debug)]
pub struct Forecaster {
    layers: Vec<LstmLayer>,
    head: Linear,
    horizon: usize,
    targets: usize,
    /// Whether the head's output is added to the last observed targets.
    residual: bool,
    /// Dropout share while training.
    dropout: f32,
}

impl Forecaster {
    /// Forecasts from windows `x` of shape `[batch, lookback, features]`.
    ///
    /// Returns `[batch, horizon, targets]` in normalised units.
    #[must_use]
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, lookback, _] = x.dims();
        let last = self.residual.then(|| {
            x.clone()
                .narrow(1, lookback - 1, 1)
                .narrow(2, 0, self.targets)
        });

        let h = match self.fused_states(&x, false) {
            Some(states) => {
                let hidden = states.dims()[2];
                states.reshape([batch, hidden])
            }
            None => self.last_state(x),
        };
        let out = self
            .head
            .forward(h)
            .reshape([batch, self.horizon, self.targets]);
        match last {
            Some(last) => out + last,
            None => out,
        }
    }

    /// The last layer's hidden state after the last step of `x`, `[batch,
    /// hidden]`, through tensor operations (what trains).
    fn last_state(&self, x: Tensor<3>) -> Tensor<2> {
        let depth = self.layers.len();
        let mut input = Some(x);
        let mut steps = Vec::new();
        for (index, layer) in self.layers.iter().enumerate() {
            let gates_in = match input.take() {
                Some(x) => layer.project(x),
                None => layer.project_steps(steps),
            };
            steps = layer
                .run(gates_in, index + 1 < depth)
                .into_iter()
                .map(|h| self.drop(h))
                .collect();
        }
        // The last layer kept only its last step; `init` refuses 0 layers.
        let Some(h) = steps.pop() else {
            unreachable!("at least one LSTM layer")
        };
        h
    }

    /// The last layer's hidden states over `x` (`[batch, seq, features]`),
    /// time-major: `[seq, batch, hidden]` with `all_steps`, otherwise `[1,
    /// batch, hidden]` after the last step. Through the fused inference pass
    /// (`model/inference.rs`) when `x` is on flex without autodiff, `None`
    /// elsewhere.
    fn fused_states(&self, x: &Tensor<3>, all_steps: bool) -> Option<Tensor<3>> {
        if x.is_autodiff() || x.device() != Device::flex() {
            return None;
        }
        let depth = self.layers.len();
        let mut states = x.clone().swap_dims(0, 1);
        for (index, layer) in self.layers.iter().enumerate() {
            let every_step = all_steps || index + 1 < depth;
            states = inference::run_layer(&states, &layer.input, &layer.recurrent, every_step)?;
        }
        Some(states)
    }

    /// Reads whole sequences `x` of shape `[batch, steps, features]` and
    /// gives the head's output at every step, `[batch, steps, horizon ×
    /// targets]`: what the network says after seeing the history up to and
    /// including each step.
    #[must_use]
    pub fn forward_sequence(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, steps, _] = x.dims();
        let outputs = self.horizon * self.targets;
        if let Some(states) = self.fused_states(&x, true) {
            // Time-major: the head runs on `[steps × batch, hidden]` and
            // only its small output is put back in batch order.
            let hidden = states.dims()[2];
            return self
                .head
                .forward(states.reshape([steps * batch, hidden]))
                .reshape([steps, batch, outputs])
                .swap_dims(0, 1);
        }
        let mut input = Some(x);
        let mut states = Vec::new();
        for layer in &self.layers {
            let gates_in = match input.take() {
                Some(x) => layer.project(x),
                None => layer.project_steps(states),
            };
            states = layer
                .run(gates_in, true)
                .into_iter()
                .map(|h| self.drop(h))
                .collect();
        }
        let h = Tensor::stack::<3>(states, 1);
        let hidden = h.dims()[2];
        self.head
            .forward(h.reshape([batch * steps, hidden]))
            .reshape([batch, steps, outputs])
    }

    /// Runs [`Forecaster::forward_sequence`] on sequences of flat inputs
    /// (`[steps, features]` each) and reads back each one's outputs,
    /// `[steps, horizon × targets]`. Sequences are padded at their end into
    /// batches of at most `batch` sequences.
    pub async fn predict_sequences(
        &self,
        sequences: &Sequences,
        batch: usize,
        device: &Device,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let outputs = self.horizon * self.targets;
        let mut out = Vec::with_capacity(sequences.len());
        let indices: Vec<usize> = (0..sequences.len()).collect();
        for chunk in indices.chunks(batch.max(1)) {
            let padded = sequences.padded(chunk);
            let shape = [chunk.len(), padded.steps, sequences.features];
            let x = Tensor::from_data(TensorData::new(padded.inputs, shape), device);
            let values = read_values(self.forward_sequence(x)).await?;
            for (row, &i) in chunk.iter().enumerate() {
                let start = row * padded.steps * outputs;
                let len = sequences.steps(i) * outputs;
                out.push(values[start..start + len].to_vec());
            }
        }
        Ok(out)
    }

    /// Inverted dropout, only while training (on an autodiff device).
    fn drop<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if self.dropout <= 0.0 || !x.device().is_autodiff() {
            return x;
        }
        let keep = 1.0 - f64::from(self.dropout);
        let mask = x.random_like(Distribution::Bernoulli(keep));
        x * mask / keep
    }

    /// Forecasts a batch of flat windows (`[count, lookback, features]`,
    /// row-major) and reads the result back as `[count, horizon, targets]`.
    pub async fn predict(
        &self,
        config: &ForecasterConfig,
        inputs: &[f32],
        device: &Device,
    ) -> Result<Vec<f32>, ModelError> {
        let per_window = config.input_len();
        if per_window == 0 || !inputs.len().is_multiple_of(per_window) {
            return Err(ModelError::Shape {
                what: "whole windows of look-back × features",
                expected: per_window,
                got: inputs.len(),
            });
        }
        let count = inputs.len() / per_window;
        if count == 0 {
            return Ok(Vec::new());
        }
        // On the CPU, at most `CPU_CHUNK` windows at a time bound the fused
        // pass's buffers; a GPU wants the whole batch.
        let chunk = if *device == Device::flex() {
            CPU_CHUNK
        } else {
            count
        };
        let mut out = Vec::with_capacity(count * config.output_len());
        for part in inputs.chunks(chunk * per_window) {
            let windows = part.len() / per_window;
            let x = windows_tensor(part, windows, config.lookback, config.features, device);
            out.extend(read_values(self.forward(x)).await?);
        }
        Ok(out)
    }
}

/// Windows forecast at once on the CPU by [`Forecaster::predict`]: the
/// fused pass holds about `4 × hidden` values a window per layer, 1 MB for
/// 1024 windows of 64 hidden units. With the fused pass, in the browser
/// (2026-12-04, two runs each), 1024 gave R1 16 900–17 300 windows/s and R2
/// 5 750–5 830 (73–74 % of the page's matmul), 256 gave 16 300–16 900
/// and 5 590–5 620 (70–72 %), and 128, the best size before the fused
/// pass, 16 600–17 000 and 5 680–5 740 (68–70 %).
const CPU_CHUNK: usize = 1024;

impl Forecaster {
    /// Copies the weights to `device`, reading them back asynchronously.
    ///
    /// Moving a module between backends with burn's synchronous calls cannot
    /// work on WebGPU in the browser, where reads must be awaited; this is the
    /// path used to save a model trained on the GPU and to run a saved model
    /// there.
    pub async fn copy_to(&self, device: &Device) -> Result<Self, ModelError> {
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            layers.push(LstmLayer {
                input: copy_linear(&layer.input, device).await?,
                recurrent: copy_linear(&layer.recurrent, device).await?,
                hidden: layer.hidden,
            });
        }
        Ok(Self {
            layers,
            head: copy_linear(&self.head, device).await?,
            horizon: self.horizon,
            targets: self.targets,
            residual: self.residual,
            dropout: self.dropout,
        })
    }
}

/// Where a member's weight matrix goes in the joined network of
/// [`Forecaster::ensemble`].
#[derive(Debug, Clone, Copy)]
struct Placement {
    /// Members joined.
    members: usize,
    /// The member.
    member: usize,
    /// Hidden units of one member.
    hidden: usize,
}

impl Placement {
    /// The joined row of member row `row`: inputs shared by every member
    /// (the features) keep their row; a member's own hidden units move to
    /// its block.
    fn row(self, row: usize, shared: bool) -> usize {
        if shared {
            row
        } else {
            self.member * self.hidden + row
        }
    }

    /// The joined column of gate column `column` (`[i, f, g, o]`, `hidden`
    /// each): the gate's block, then the member's block inside it.
    fn gate_column(self, column: usize) -> usize {
        let (gate, unit) = (column / self.hidden, column % self.hidden);
        gate * self.members * self.hidden + self.member * self.hidden + unit
    }
}

/// A dense `[rows, columns]` matrix being filled, and its bias.
struct Joined {
    columns: usize,
    weight: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl Joined {
    fn new(rows: usize, columns: usize, bias: bool) -> Self {
        Self {
            columns,
            weight: vec![0.0; rows * columns],
            bias: bias.then(|| vec![0.0; columns]),
        }
    }

    /// Adds `scale` times a member's `[rows, columns]` matrix and bias,
    /// moved by `row` and `column`.
    fn add(
        &mut self,
        (weight, bias): &(Vec<f32>, Option<Vec<f32>>),
        member_columns: usize,
        scale: f32,
        row: impl Fn(usize) -> usize,
        column: impl Fn(usize) -> usize,
    ) {
        for (index, &value) in weight.iter().enumerate() {
            let (r, c) = (index / member_columns, index % member_columns);
            self.weight[row(r) * self.columns + column(c)] += scale * value;
        }
        if let (Some(joined), Some(bias)) = (&mut self.bias, bias) {
            for (c, &value) in bias.iter().enumerate() {
                joined[column(c)] += scale * value;
            }
        }
    }

    fn into_linear(self, device: &Device) -> Linear {
        let rows = self.weight.len() / self.columns.max(1);
        let weight = Tensor::from_data(TensorData::new(self.weight, [rows, self.columns]), device);
        Linear {
            weight: Param::from_tensor(weight),
            bias: self.bias.map(|bias| {
                let len = bias.len();
                Param::from_tensor(Tensor::from_data(TensorData::new(bias, [len]), device))
            }),
        }
    }
}

impl Forecaster {
    /// Joins networks of the same configuration `config` into one whose
    /// output is the mean of theirs: a deep ensemble that saves and runs as
    /// a single network of `members × hidden` hidden units per layer.
    ///
    /// Each member keeps its own block of every gate; the recurrent and
    /// deeper input weights are block-diagonal (members never see each
    /// other's states) and the head averages the members' heads. Returns the
    /// joined configuration with it. The result is meant for prediction:
    /// training it further would let the members mix.
    pub async fn ensemble(
        config: &ForecasterConfig,
        members: &[Self],
        device: &Device,
    ) -> Result<(ForecasterConfig, Self), ModelError> {
        let count = members.len();
        if count == 0 {
            return Err(ModelError::Config(
                "an ensemble needs at least one member".to_owned(),
            ));
        }
        if members.iter().any(|m| m.layers.len() != config.layers) {
            return Err(ModelError::Config(
                "ensemble members must all have the configured layers".to_owned(),
            ));
        }
        let hidden = config.hidden;
        let joined_config = ForecasterConfig {
            hidden: count * hidden,
            ..config.clone()
        };
        let scale = 1.0 / count as f32;
        let mut layers = Vec::with_capacity(config.layers);
        for layer in 0..config.layers {
            let inputs = if layer == 0 { config.features } else { hidden };
            let rows = if layer == 0 { inputs } else { count * hidden };
            let mut input = Joined::new(rows, 4 * count * hidden, true);
            let mut recurrent = Joined::new(count * hidden, 4 * count * hidden, false);
            for (member, network) in members.iter().enumerate() {
                let place = Placement {
                    members: count,
                    member,
                    hidden,
                };
                let own = &network.layers[layer];
                let values = read_linear(&own.input).await?;
                let shared = layer == 0;
                input.add(
                    &values,
                    4 * hidden,
                    1.0,
                    |r| place.row(r, shared),
                    |c| place.gate_column(c),
                );
                let values = read_linear(&own.recurrent).await?;
                recurrent.add(
                    &values,
                    4 * hidden,
                    1.0,
                    |r| place.row(r, false),
                    |c| place.gate_column(c),
                );
            }
            layers.push(LstmLayer {
                input: input.into_linear(device),
                recurrent: recurrent.into_linear(device),
                hidden: count * hidden,
            });
        }
        let outputs = config.output_len();
        let mut head = Joined::new(count * hidden, outputs, true);
        for (member, network) in members.iter().enumerate() {
            let place = Placement {
                members: count,
                member,
                hidden,
            };
            let values = read_linear(&network.head).await?;
            head.add(&values, outputs, scale, |r| place.row(r, false), |c| c);
        }
        let joined = Self {
            layers,
            head: head.into_linear(device),
            horizon: config.horizon,
            targets: config.targets,
            residual: config.output == OutputKind::Residual,
            dropout: config.dropout,
        };
        Ok((joined_config, joined))
    }
}

/// A linear map's weight (row-major) and bias, read back.
async fn read_linear(linear: &Linear) -> Result<(Vec<f32>, Option<Vec<f32>>), ModelError> {
    let weight = read_values(linear.weight.val()).await?;
    let bias = match &linear.bias {
        Some(bias) => Some(read_values(bias.val()).await?),
        None => None,
    };
    Ok((weight, bias))
}

/// A tensor's values, read back (awaited, as a GPU read must be).
pub(crate) async fn read_values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    tensor
        .into_data_async()
        .await
        .map_err(|err| ModelError::Backend(format!("{err:?}")))?
        .try_into_vec::<f32>()
        .map_err(|err| ModelError::Backend(format!("{err:?}")))
}

async fn copy_linear(linear: &Linear, device: &Device) -> Result<Linear, ModelError> {
    let weight = copy_tensor(linear.weight.val(), device).await?;
    let bias = match &linear.bias {
        Some(bias) => Some(Param::from_tensor(copy_tensor(bias.val(), device).await?)),
        None => None,
    };
    Ok(Linear {
        weight: Param::from_tensor(weight),
        bias,
    })
}

async fn copy_tensor<const D: usize>(
    tensor: Tensor<D>,
    device: &Device,
) -> Result<Tensor<D>, ModelError> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|err| ModelError::Backend(format!("{err:?}")))?;
    Ok(Tensor::from_data(data, device))
}

/// Builds a `[count, lookback, features]` tensor from flat row-major values.
///
/// The caller checks that `values.len() == count × lookback × features`.
#[must_use]
pub fn windows_tensor(
    values: &[f32],
    count: usize,
    lookback: usize,
    features: usize,
    device: &Device,
) -> Tensor<3> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), [count, lookback, features]),
        device,
    )
}

// The tests drive futures with the native `block_on`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn config() -> ForecasterConfig {
        ForecasterConfig {
            features: 3,
            lookback: 5,
            hidden: 8,
            layers: 2,
            horizon: 4,
            targets: 2,
            output: OutputKind::Residual,
            dropout: 0.0,
        }
    }

    #[test]
    fn forward_has_the_documented_shape() {
        let device = Device::flex();
        let model = config().init(&device).unwrap();
        let x = Tensor::<3>::ones([6, 5, 3], &device);
        assert_eq!(model.forward(x).dims(), [6, 4, 2]);
    }

    /// burn's own `Lstm` with the weights of `layer`, gate by gate.
    fn burn_lstm(layer: &LstmLayer, device: &Device) -> burn::nn::Lstm {
        let [inputs, width] = layer.input.weight.val().dims();
        let hidden = width / 4;
        // A copy of the values, so that the new parameters are leaves.
        let copy = |t: Tensor<2>| Tensor::<2>::from_data(t.into_data(), device);
        let block = |linear: &Linear, gate: usize, bias: bool| Linear {
            weight: Param::from_tensor(copy(linear.weight.val().narrow(1, gate * hidden, hidden))),
            bias: Some(Param::from_tensor(match (&linear.bias, bias) {
                (Some(b), true) => {
                    copy(b.val().narrow(0, gate * hidden, hidden).unsqueeze()).squeeze_dim(0)
                }
                _ => Tensor::zeros([hidden], device),
            })),
        };
        // burn's gates, in our `[i, f, g, o]` order.
        let gate = |gate: usize| burn::nn::GateController {
            input_transform: block(&layer.input, gate, true),
            hidden_transform: block(&layer.recurrent, gate, false),
        };
        let mut lstm = burn::nn::LstmConfig::new(inputs, hidden, true).init(device);
        lstm.input_gate = gate(0);
        lstm.forget_gate = Some(gate(1));
        lstm.cell_gate = gate(2);
        lstm.output_gate = gate(3);
        lstm
    }

    #[test]
    fn the_fused_layer_gives_the_outputs_of_burns_lstm_on_the_same_weights() {
        for device in [Device::flex(), Device::flex().autodiff()] {
            let cfg = ForecasterConfig {
                features: 6,
                hidden: 16,
                layers: 1,
                ..config()
            };
            let model = cfg.init_seeded(1.0, 3, &device).unwrap();
            let layer = &model.layers[0];
            device.seed(5);
            let x = Tensor::<3>::random([7, 12, 6], Distribution::Uniform(-2.0, 2.0), &device);
            let ours = Tensor::stack::<3>(layer.run(layer.project(x.clone()), true), 1);
            let (theirs, _) = burn_lstm(layer, &device).forward(x.clone(), None);
            assert_eq!(ours.dims(), theirs.dims());
            let worst = largest_difference(ours, theirs.clone());
            assert!(worst < 1e-5, "{device:?}: largest difference {worst}");
            // The fused inference pass, time-major, where it applies.
            let time_major = x.swap_dims(0, 1);
            match inference::run_layer(&time_major, &layer.input, &layer.recurrent, true) {
                Some(fused) => {
                    let worst = largest_difference(fused.swap_dims(0, 1), theirs);
                    assert!(worst < 1e-5, "fused inference: largest difference {worst}");
                }
                None => assert!(device.is_autodiff(), "flex takes the fused inference pass"),
            }
            // An empty batch is left to the tensor operations.
            let empty = Tensor::<3>::zeros([12, 0, 6], &device);
            assert!(inference::run_layer(&empty, &layer.input, &layer.recurrent, true).is_none());
        }
    }

    fn largest_difference<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        assert_eq!(a.dims(), b.dims());
        let a = a.into_data().try_into_vec::<f32>().unwrap();
        let b = b.into_data().try_into_vec::<f32>().unwrap();
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    }

    #[test]
    fn inference_gives_the_outputs_of_the_training_path() {
        // Two layers, so the second reads the first's fused states.
        let plain = Device::flex();
        let tracked = Device::flex().autodiff();
        for output in [
            OutputKind::Residual,
            OutputKind::Direct,
            OutputKind::PerStep,
        ] {
            let cfg = ForecasterConfig { output, ..config() };
            let model = cfg.init_seeded(1.0, 9, &plain).unwrap();
            let trainable = burn_block_on(model.copy_to(&tracked)).unwrap();
            plain.seed(2);
            let x = Tensor::<3>::random([6, 5, 3], Distribution::Uniform(-2.0, 2.0), &plain);
            let x_tracked = Tensor::<3>::from_data(x.to_data(), &tracked);
            let (fused, reference) = if output == OutputKind::PerStep {
                (
                    model.forward_sequence(x),
                    trainable.forward_sequence(x_tracked),
                )
            } else {
                (model.forward(x), trainable.forward(x_tracked))
            };
            let reference = Tensor::<3>::from_data(reference.into_data(), &plain);
            let worst = largest_difference(fused, reference);
            assert!(worst < 1e-5, "{output:?}: largest difference {worst}");
        }
    }

    #[test]
    fn predict_checks_the_input_length() {
        let device = Device::flex();
        let cfg = config();
        let model = cfg.init(&device).unwrap();
        let err = burn_block_on(model.predict(&cfg, &[0.0; 14], &device)).unwrap_err();
        assert!(err.to_string().contains("expected 15"), "{err}");
        let out = burn_block_on(model.predict(&cfg, &[0.5; 30], &device)).unwrap();
        assert_eq!(out.len(), 2 * 4 * 2);
        assert!(out.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn bad_configs_are_refused() {
        let device = Device::flex();
        for broken in [
            ForecasterConfig {
                hidden: 0,
                ..config()
            },
            ForecasterConfig {
                layers: 0,
                ..config()
            },
            ForecasterConfig {
                targets: 4,
                ..config()
            },
            ForecasterConfig {
                lookback: 0,
                ..config()
            },
        ] {
            assert!(broken.init(&device).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn an_ensemble_predicts_the_mean_of_its_members() {
        let device = Device::flex();
        for output in [OutputKind::Residual, OutputKind::PerStep] {
            let cfg = ForecasterConfig { output, ..config() };
            let members: Vec<Forecaster> = (0..3)
                .map(|seed| cfg.init_seeded(0.0, seed, &device).unwrap())
                .collect();
            let (joined_cfg, joined) =
                burn_block_on(Forecaster::ensemble(&cfg, &members, &device)).unwrap();
            assert_eq!(joined_cfg.hidden, 3 * cfg.hidden);
            let x = Tensor::<3>::random([4, 5, 3], Distribution::Normal(0.0, 1.0), &device);
            let (mean, got) = if output == OutputKind::PerStep {
                let mean = members
                    .iter()
                    .map(|m| m.forward_sequence(x.clone()))
                    .reduce(|a, b| a + b)
                    .unwrap()
                    / 3.0;
                (mean, joined.forward_sequence(x.clone()))
            } else {
                let mean = members
                    .iter()
                    .map(|m| m.forward(x.clone()))
                    .reduce(|a, b| a + b)
                    .unwrap()
                    / 3.0;
                (mean, joined.forward(x.clone()))
            };
            let gap = (mean - got).abs().max().into_scalar::<f32>();
            assert!(gap < 1e-5, "{output:?}: largest gap {gap}");
        }
    }

    /// Runs a future that never waits on anything outside this thread.
    fn burn_block_on<F: std::future::Future>(future: F) -> F::Output {
        crate::train::block_on(future)
    }
}
