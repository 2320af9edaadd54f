//! A whole LSTM layer in one pass, for inference on burn's CPU backend.
//!
//! Without autodiff nothing needs to be kept for a backward pass, so a
//! layer can run over its whole sequence on plain buffers instead of a few
//! tensor operations per step. Each step is one matrix product of the rows
//! `[x_t, h_{t-1}]` (`[batch, input + hidden]`) with the input and recurrent
//! weights stacked (`[input + hidden, 4 × hidden]`), written straight into
//! a gate buffer that the cell update then reads in place, adding the bias
//! as it goes. Compared with a product over the whole sequence's inputs
//! followed by one product per step, nothing the size of the whole
//! sequence's gates is written and read back (12.6 MB for 128 windows of
//! the R2 workload, `bench/README.md`), and no tensor is made per step.
//!
//! The products are `gemm`'s, the crate behind flex's own matrix product,
//! so they run the same SIMD kernels (SIMD128 on wasm).

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::nn::Linear;
use burn::tensor::{DType, Tensor, TensorData};

use super::cell::{sigmoid_fast, tanh_fast};

/// Runs one layer over `x`, time-major `[seq, batch, input]`, when `x` and
/// the weights live on flex without autodiff; `None` elsewhere (the caller
/// then takes the tensor operations).
///
/// `input` maps `[input] → [4 × hidden]` with the bias, `recurrent` maps
/// `[hidden] → [4 × hidden]`, gates `[i, f, g, o]`. Returns the hidden
/// state after every step, `[seq, batch, hidden]`, when `all_steps` is set,
/// otherwise after the last one, `[1, batch, hidden]`.
pub(super) fn run_layer(
    x: &Tensor<3>,
    input: &Linear,
    recurrent: &Linear,
    all_steps: bool,
) -> Option<Tensor<3>> {
    let [seq, batch, features] = x.dims();
    let [hidden, gates] = recurrent.weight.dims();
    // An empty batch or sequence is left to the tensor operations.
    if x.is_autodiff()
        || seq == 0
        || batch == 0
        || features == 0
        || gates != 4 * hidden
        || input.weight.dims() != [features, gates]
    {
        return None;
    }
    let x = contiguous(x)?;
    let input_weight = contiguous(&input.weight.val())?;
    let recurrent_weight = contiguous(&recurrent.weight.val())?;
    let stacked = [
        input_weight.as_slice::<f32>()?,
        recurrent_weight.as_slice::<f32>()?,
    ]
    .concat();
    let bias = match &input.bias {
        Some(bias) => contiguous(&bias.val())?.as_slice::<f32>()?.to_vec(),
        None => vec![0.0; gates],
    };
    let weights = Weights {
        stacked: &stacked,
        bias: &bias,
        hidden,
    };
    let out = run(
        x.as_slice::<f32>()?,
        [seq, batch, features],
        &weights,
        all_steps,
    );
    let steps = if all_steps { seq } else { 1 };
    let out = FlexTensor::from_data(TensorData::new(out, [steps, batch, hidden]));
    Some(Tensor::from_primitive::<Flex>(out))
}

/// An `f32` tensor on flex, row-major (a copy only when it was a view in
/// another order).
fn contiguous<const D: usize>(tensor: &Tensor<D>) -> Option<FlexTensor> {
    if tensor.dtype() != DType::F32 {
        return None;
    }
    let flex = tensor.clone().try_into_primitive::<Flex>().ok()?;
    Some(flex.to_contiguous())
}

/// One layer's weights as plain values.
pub(super) struct Weights<'a> {
    /// `[input + hidden, 4 × hidden]`: the input weights' rows, then the
    /// recurrent weights' rows.
    pub(super) stacked: &'a [f32],
    /// `[4 × hidden]`.
    pub(super) bias: &'a [f32],
    /// Hidden units.
    pub(super) hidden: usize,
}

/// The recurrence over time-major `x` (`[seq, batch, input]`) on plain
/// values: the hidden states after every step (`[seq, batch, hidden]`) or
/// after the last (`[batch, hidden]`).
pub(super) fn run(
    x: &[f32],
    [seq, batch, input]: [usize; 3],
    weights: &Weights<'_>,
    all_steps: bool,
) -> Vec<f32> {
    let hidden = weights.hidden;
    let gates = 4 * hidden;
    let width = input + hidden;
    // `[x_t, h_{t-1}]`, one row per window; `h` starts at zero.
    let mut rows = vec![0.0; batch * width];
    let mut acts = vec![0.0; batch * gates];
    let mut c = vec![0.0; batch * hidden];
    let mut out = vec![0.0; if all_steps { seq } else { 1 } * batch * hidden];
    for (t, x_t) in x.chunks_exact(batch * input).take(seq).enumerate() {
        for (row, x_row) in rows.chunks_exact_mut(width).zip(x_t.chunks_exact(input)) {
            row[..input].copy_from_slice(x_row);
        }
        matmul(&mut acts, &rows, weights.stacked, [batch, width, gates]);
        let h_t = if all_steps {
            &mut out[t * batch * hidden..(t + 1) * batch * hidden]
        } else {
            &mut out[..]
        };
        let per_row = acts
            .chunks_exact_mut(gates)
            .zip(c.chunks_exact_mut(hidden))
            .zip(h_t.chunks_exact_mut(hidden))
            .zip(rows.chunks_exact_mut(width));
        for (((acts, c), h), row) in per_row {
            update_row(acts, weights.bias, c, h);
            row[input..].copy_from_slice(h);
        }
    }
    out
}

/// One row of the cell update: the gates' products (4h) plus their bias,
/// activated in place; the cell `c` (h) updated in place; the new `h`
/// written.
///
/// The activation loops are those of `cell::forward_row`, written again:
/// one function shared by both cost the page's module 14 KB of gzip (its
/// code generation changed), more than six lines are worth.
fn update_row(acts: &mut [f32], bias: &[f32], c: &mut [f32], h: &mut [f32]) {
    let hidden = c.len();
    for (a, &b) in acts.iter_mut().zip(bias) {
        *a += b;
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
        c[j] = f[j] * c[j] + i[j] * tanh_g[j];
        h[j] = sig_o[j] * tanh_fast(c[j]);
    }
}

/// `dst = lhs × rhs` for row-major `lhs` `[m, k]`, `rhs` `[k, n]` and `dst`
/// `[m, n]`, on one thread.
#[allow(
    unsafe_code,
    reason = "gemm takes raw pointers and strides; the lengths are checked here"
)]
fn matmul(dst: &mut [f32], lhs: &[f32], rhs: &[f32], [m, k, n]: [usize; 3]) {
    // Every caller passes buffers of exactly these sizes; a mismatch is a
    // bug in this module, and must never reach the pointer arithmetic.
    assert!(
        dst.len() == m * n && lhs.len() == m * k && rhs.len() == k * n,
        "matmul: buffer sizes do not match [{m}, {k}] × [{k}, {n}]"
    );
    let (k_stride, n_stride) = (k as isize, n as isize);
    // SAFETY: the three buffers hold exactly `m × n`, `m × k` and `k × n`
    // values (checked above), row-major with the strides given (one
    // between columns, the width between rows), so every element gemm
    // reads or writes is inside them; `dst` is borrowed mutably, so it
    // overlaps neither input. With `read_dst` false, gemm writes
    // `dst = 0 · dst + 1 · lhs × rhs` without reading `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n_stride,
            false,
            lhs.as_ptr(),
            1,
            k_stride,
            rhs.as_ptr(),
            1,
            n_stride,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recurrence written out the plain way, in f64.
    fn reference(x: &[f32], [seq, batch, input]: [usize; 3], w: &Weights<'_>) -> Vec<f32> {
        let hidden = w.hidden;
        let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut h = vec![0.0f64; batch * hidden];
        let mut c = vec![0.0f64; batch * hidden];
        let mut out = Vec::new();
        for t in 0..seq {
            let mut next = vec![0.0; batch * hidden];
            for b in 0..batch {
                let gate = |g: usize, j: usize| {
                    let col = g * hidden + j;
                    let mut sum = f64::from(w.bias[col]);
                    for i in 0..input {
                        let v = f64::from(x[(t * batch + b) * input + i]);
                        sum += v * f64::from(w.stacked[i * 4 * hidden + col]);
                    }
                    for i in 0..hidden {
                        sum += h[b * hidden + i]
                            * f64::from(w.stacked[(input + i) * 4 * hidden + col]);
                    }
                    sum
                };
                for j in 0..hidden {
                    let cell = sigmoid(gate(1, j)) * c[b * hidden + j]
                        + sigmoid(gate(0, j)) * gate(2, j).tanh();
                    c[b * hidden + j] = cell;
                    next[b * hidden + j] = sigmoid(gate(3, j)) * cell.tanh();
                }
            }
            h = next;
            out.extend(h.iter().map(|&v| v as f32));
        }
        out
    }

    #[test]
    fn the_fused_pass_follows_the_lstm_equations() {
        let (seq, batch, input, hidden) = (9, 5, 3, 7);
        let mut rng = crate::train::SplitMix64::new(8);
        let mut draw = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.next_u64() as f32 / u64::MAX as f32 - 0.5) * 2.0 * scale)
                .collect()
        };
        let x = draw(seq * batch * input, 2.0);
        let stacked = draw((input + hidden) * 4 * hidden, 0.8);
        let bias = draw(4 * hidden, 1.0);
        let weights = Weights {
            stacked: &stacked,
            bias: &bias,
            hidden,
        };
        let expected = reference(&x, [seq, batch, input], &weights);
        let every = run(&x, [seq, batch, input], &weights, true);
        let last = run(&x, [seq, batch, input], &weights, false);
        assert_eq!(every.len(), expected.len());
        let worst = every
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "largest difference {worst}");
        assert_eq!(last, every[(seq - 1) * batch * hidden..]);
    }
}
