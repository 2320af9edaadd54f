//! The LSTM cell update as one operation.
//!
//! After the gate pre-activations of a step are summed (`[batch, 4 ×
//! hidden]`, gates `[i, f, g, o]`), the cell update is
//!
//! ```text
//! c' = σ(f) · c + σ(i) · tanh(g)        h' = σ(o) · tanh(c')
//! ```
//!
//! Written with tensor operations that is five activations, four products
//! and a sum, each a pass over memory and a new tensor, and about as many
//! again in the backward pass. On burn's CPU backend (flex) this module does
//! it in one pass over each row, with an exponential that the compiler
//! vectorises (SIMD128 on wasm), and registers its own backward step with
//! burn's autodiff, so that training takes the same path. On any other
//! backend (wgpu) it falls back to the tensor operations.
//!
//! The state is carried as one `[2 × batch, hidden]` tensor, the rows of
//! `h` then those of `c`, so that the operation has one output and `h`, the
//! input of the next step's product, is a contiguous block of it.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::{
    BalancedCheckpointing, CheckpointStrategy, NoCheckpointing,
};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{DispatchKindConversion, DispatchTensor, Flex};
use burn::tensor::activation::sigmoid;
use burn::tensor::{DType, Tensor, TensorData};
use std::borrow::Cow;

/// One step of the cell: the new state `[2 × batch, hidden]` (the rows of
/// `h'` then those of `c'`) from the gate pre-activations, given as the input's part and the
/// recurrent part (`[batch, 4 × hidden]` each, summed here), and the
/// previous state (same layout as the new one; its `h` half is not read).
pub(crate) fn step(input: Tensor<2>, recurrent: Tensor<2>, state: Tensor<2>) -> Tensor<2> {
    flex_step([&input, &recurrent, &state])
        .unwrap_or_else(|NotFlex| ops_step(input, recurrent, state))
}

/// [`step`] written with tensor operations: what runs on other backends,
/// and the reference the fused path is tested against.
pub(crate) fn ops_step(input: Tensor<2>, recurrent: Tensor<2>, state: Tensor<2>) -> Tensor<2> {
    let gates = input + recurrent;
    let [rows, _] = state.dims();
    let batch = rows / 2;
    let c = state.narrow(0, batch, batch);
    let mut parts = gates.chunk(4, 1).into_iter();
    // `chunk` of a dimension of 4 × hidden into 4 always yields 4 parts.
    let (Some(i), Some(f), Some(g), Some(o)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        unreachable!("four gate chunks")
    };
    let c = sigmoid(f) * c + sigmoid(i) * g.tanh();
    let h = sigmoid(o) * c.clone().tanh();
    Tensor::cat(vec![h, c], 0)
}

/// Why the fused path was not taken: the tensors are on another backend.
struct NotFlex;

/// The fused step on flex, with or without autodiff; the tensors are
/// untouched when they live elsewhere.
fn flex_step(tensors: [&Tensor<2>; 3]) -> Result<Tensor<2>, NotFlex> {
    let device = tensors[0].device();
    if tensors
        .iter()
        .any(|t| t.device() != device || t.dtype() != DType::F32)
    {
        return Err(NotFlex);
    }
    match device.gradient_checkpointing_strategy() {
        None => {
            let [input, recurrent, state] = primitives::<Flex>(tensors)?;
            Ok(Tensor::from_primitive::<Flex>(forward(
                [&input, &recurrent],
                &state,
                None,
            )))
        }
        Some(_) => tracked::<NoCheckpointing>(tensors)
            .or_else(|NotFlex| tracked::<BalancedCheckpointing>(tensors)),
    }
}

/// The backend primitives of `tensors`, if they all live on `B`.
fn primitives<B>(tensors: [&Tensor<2>; 3]) -> Result<[B::FloatTensorPrimitive; 3], NotFlex>
where
    B: burn::backend::Backend,
    DispatchTensor: DispatchKindConversion<B>,
{
    let [a, b, c] = tensors.map(|t| t.clone().try_into_primitive::<B>().map_err(|_| NotFlex));
    Ok([a?, b?, c?])
}

/// The fused step on `Autodiff<Flex, C>`, recording [`CellBackward`].
fn tracked<C>(tensors: [&Tensor<2>; 3]) -> Result<Tensor<2>, NotFlex>
where
    C: CheckpointStrategy,
    DispatchTensor: DispatchKindConversion<Autodiff<Flex, C>>,
{
    let [
        (input, input_node),
        (recurrent, recurrent_node),
        (state, state_node),
    ] = primitives::<Autodiff<Flex, C>>(tensors)?.map(FloatTensor::<Autodiff<Flex, C>>::into_parts);
    let out = match CellBackward
        .prepare::<C>([input_node, recurrent_node, state_node])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let mut saved = Saved::new(&input, state.clone());
            let out = forward([&input, &recurrent], &state, Some(&mut saved));
            prep.finish(saved, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward([&input, &recurrent], &state, None)),
    };
    Ok(Tensor::from_primitive::<Autodiff<Flex, C>>(out))
}

/// What the backward pass of one step needs.
#[derive(Debug, Clone)]
struct Saved {
    /// The gates after their activations, `[batch, 4 × hidden]`: σ(i),
    /// σ(f), tanh(g), σ(o).
    acts: Vec<f32>,
    /// tanh(c'), `[batch, hidden]`.
    tanh_c: Vec<f32>,
    /// The previous state, `[2 × batch, hidden]`.
    state: FlexTensor,
    /// Rows.
    batch: usize,
    /// Hidden units.
    hidden: usize,
}

impl Saved {
    fn new(gates: &FlexTensor, state: FlexTensor) -> Self {
        let shape = gates.layout().shape();
        let (batch, hidden) = (shape[0], shape[1] / 4);
        Self {
            acts: vec![0.0; batch * 4 * hidden],
            tanh_c: vec![0.0; batch * hidden],
            state,
            batch,
            hidden,
        }
    }
}

/// The backward step of the fused cell: parents are the gates and the
/// previous state.
#[derive(Debug)]
struct CellBackward;

impl Backward<Flex, 3> for CellBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let saved = ops.state;
        let grad = grads.consume::<Flex>(&ops.node);
        let grad = Rows::new(&grad);
        let prev = Rows::new(&saved.state);
        let (batch, hidden) = (saved.batch, saved.hidden);
        let mut d_gates = vec![0.0; batch * 4 * hidden];
        // The previous `h` only reached the next step through the product
        // outside: its rows keep a zero gradient here.
        let mut d_state = vec![0.0; 2 * batch * hidden];
        let d_c = &mut d_state[batch * hidden..];
        for b in 0..batch {
            backward_row(
                &saved.acts[b * 4 * hidden..(b + 1) * 4 * hidden],
                &saved.tanh_c[b * hidden..(b + 1) * hidden],
                prev.row(batch + b),
                [grad.row(b), grad.row(batch + b)],
                &mut d_gates[b * 4 * hidden..(b + 1) * 4 * hidden],
                &mut d_c[b * hidden..(b + 1) * hidden],
            );
        }
        // Both parts of the gates get the same gradient.
        let d_gates = flex(d_gates, [batch, 4 * hidden]);
        let [input, recurrent, state] = ops.parents;
        if let Some(node) = input {
            grads.register::<Flex>(node.id, d_gates.clone());
        }
        if let Some(node) = recurrent {
            grads.register::<Flex>(node.id, d_gates);
        }
        if let Some(node) = state {
            grads.register::<Flex>(node.id, flex(d_state, [2 * batch, hidden]));
        }
    }
}

/// A 2-D `f32` flex tensor read row by row, in place where each row is
/// contiguous in memory (a step cut from a whole sequence is), otherwise
/// from a contiguous copy.
struct Rows<'a> {
    values: Cow<'a, [f32]>,
    offset: usize,
    stride: usize,
    width: usize,
}

impl<'a> Rows<'a> {
    fn new(tensor: &'a FlexTensor) -> Self {
        let layout = tensor.layout();
        let width = layout.shape()[1];
        if let [rows, 1] = *layout.strides()
            && let Ok(stride) = usize::try_from(rows)
            && (stride >= width || layout.shape()[0] <= 1)
        {
            return Self {
                values: Cow::Borrowed(tensor.storage::<f32>()),
                offset: layout.start_offset(),
                stride,
                width,
            };
        }
        let copy = tensor.to_contiguous();
        Self {
            values: Cow::Owned(copy.as_slice::<f32>().unwrap_or(&[]).to_vec()),
            offset: 0,
            stride: width,
            width,
        }
    }

    fn row(&self, row: usize) -> &[f32] {
        let start = self.offset + row * self.stride;
        &self.values[start..start + self.width]
    }
}

/// A flex tensor holding `values` in `shape`.
fn flex(values: Vec<f32>, shape: [usize; 2]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The fused forward pass over the two parts of the gates and the previous
/// state; fills `saved` when it is given.
fn forward(
    [input, recurrent]: [&FlexTensor; 2],
    state: &FlexTensor,
    saved: Option<&mut Saved>,
) -> FlexTensor {
    let shape = input.layout().shape();
    let (batch, hidden) = (shape[0], shape[1] / 4);
    let (input, recurrent, state) = (Rows::new(input), Rows::new(recurrent), Rows::new(state));
    let mut out = vec![0.0; 2 * batch * hidden];
    let (out_h, out_c) = out.split_at_mut(batch * hidden);
    let mut scratch_acts = vec![0.0; 4 * hidden];
    let mut scratch_tanh = vec![0.0; hidden];
    let mut saved = saved;
    for b in 0..batch {
        let (acts, tanh_c) = match saved.as_deref_mut() {
            Some(saved) => (
                &mut saved.acts[b * 4 * hidden..(b + 1) * 4 * hidden],
                &mut saved.tanh_c[b * hidden..(b + 1) * hidden],
            ),
            None => (&mut scratch_acts[..], &mut scratch_tanh[..]),
        };
        forward_row(
            [input.row(b), recurrent.row(b)],
            state.row(batch + b),
            acts,
            tanh_c,
            [
                &mut out_h[b * hidden..(b + 1) * hidden],
                &mut out_c[b * hidden..(b + 1) * hidden],
            ],
        );
    }
    flex(out, [2 * batch, hidden])
}

/// One row of the forward pass: the two parts of the gates (4h each), the
/// previous cell `c` (h); writes the activations (4h), tanh(c') (h) and
/// the new `h'` and `c'` (h each).
fn forward_row(
    [input, recurrent]: [&[f32]; 2],
    c: &[f32],
    acts: &mut [f32],
    tanh_c: &mut [f32],
    [h_out, c_out]: [&mut [f32]; 2],
) {
    let hidden = c.len();
    for ((a, &x), &y) in acts.iter_mut().zip(input).zip(recurrent) {
        *a = x + y;
    }
    let (sig_if, rest) = acts.split_at_mut(2 * hidden);
    let (tanh_g, sig_o) = rest.split_at_mut(hidden);
    for a in sig_if.iter_mut() {
        *a = sigmoid_fast(*a);
    }
    for a in sig_o.iter_mut() {
        *a = sigmoid_fast(*a);
    }
    for a in tanh_g.iter_mut() {
        *a = tanh_fast(*a);
    }
    let (i, f) = sig_if.split_at(hidden);
    for j in 0..hidden {
        c_out[j] = f[j] * c[j] + i[j] * tanh_g[j];
    }
    for j in 0..hidden {
        tanh_c[j] = tanh_fast(c_out[j]);
        h_out[j] = sig_o[j] * tanh_c[j];
    }
}

/// One row of the backward pass. `acts` (4h) and `tanh_c` (h) are what the
/// forward pass saved, `c` (h) the previous cell, `dh` and `dc_out` (h
/// each) the gradients of the new `h'` and `c'`; writes the gradient of the gates (4h) and
/// of the previous cell (h).
fn backward_row(
    acts: &[f32],
    tanh_c: &[f32],
    c: &[f32],
    [dh, dc_out]: [&[f32]; 2],
    d_gates: &mut [f32],
    d_c: &mut [f32],
) {
    let hidden = c.len();
    let (i, rest) = acts.split_at(hidden);
    let (f, rest) = rest.split_at(hidden);
    let (g, o) = rest.split_at(hidden);
    let (di, rest) = d_gates.split_at_mut(hidden);
    let (df, rest) = rest.split_at_mut(hidden);
    let (dg, d_o) = rest.split_at_mut(hidden);
    for j in 0..hidden {
        let t = tanh_c[j];
        let dc = dc_out[j] + dh[j] * o[j] * (1.0 - t * t);
        d_o[j] = dh[j] * t * o[j] * (1.0 - o[j]);
        di[j] = dc * g[j] * i[j] * (1.0 - i[j]);
        df[j] = dc * c[j] * f[j] * (1.0 - f[j]);
        dg[j] = dc * i[j] * (1.0 - g[j] * g[j]);
        d_c[j] = dc * f[j];
    }
}

/// `e^x` to about 2 ulp, branch-free so that loops over it vectorise.
/// Inputs are clamped to the range where the result is a normal `f32`.
#[allow(
    clippy::inline_always,
    reason = "the element-wise loops only vectorise with these inlined"
)]
#[inline(always)]
fn exp_fast(x: f32) -> f32 {
    // Round x / ln 2 to the nearest integer k by adding and removing
    // 1.5 × 2²³, then e^x = 2^k · e^r with |r| ≤ ln 2 / 2.
    const SHIFT: f32 = 12_582_912.0;
    // ln 2 in two parts, so that k · LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.3, 88.3);
    let shifted = x * std::f32::consts::LOG2_E + SHIFT;
    let k = shifted - SHIFT;
    let r = x - k * LN2_HI - k * LN2_LO;
    // Taylor series of e^r to the 6th power: the error is below 2e-7.
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // k, in [-126, 127], sits in the low bits of `shifted`: 2^k is built
    // from them with integer operations only (no float-to-int conversion,
    // which does not vectorise everywhere).
    let k_bits = shifted.to_bits().wrapping_sub(SHIFT.to_bits());
    let scale = f32::from_bits(k_bits.wrapping_add(127) << 23);
    p * scale
}

/// The logistic function.
#[expect(clippy::inline_always, reason = "see `exp_fast`")]
#[inline(always)]
pub(super) fn sigmoid_fast(x: f32) -> f32 {
    1.0 / (1.0 + exp_fast(-x))
}

/// The hyperbolic tangent, to about 1e-7 absolute.
#[expect(clippy::inline_always, reason = "see `exp_fast`")]
#[inline(always)]
pub(super) fn tanh_fast(x: f32) -> f32 {
    1.0 - 2.0 / (1.0 + exp_fast(2.0 * x))
}

#[cfg(test)]
mod tests;
