use burn::tensor::{Device, Distribution, Tensor};

use super::{exp_fast, flex_step, ops_step, sigmoid_fast, step, tanh_fast};

fn max_difference(a: Tensor<2>, b: Tensor<2>) -> f32 {
    let a = a.into_data().try_into_vec::<f32>().expect("f32 values");
    let b = b.into_data().try_into_vec::<f32>().expect("f32 values");
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The two parts of gate pre-activations, wide enough to saturate every
/// activation, and a previous state.
fn inputs(device: &Device, batch: usize, hidden: usize) -> [Tensor<2>; 3] {
    device.seed(11);
    let part = || {
        Tensor::<2>::random(
            [batch, 4 * hidden],
            Distribution::Uniform(-6.0, 6.0),
            device,
        )
    };
    let state = Tensor::<2>::random(
        [2 * batch, hidden],
        Distribution::Uniform(-3.0, 3.0),
        device,
    );
    [part(), part(), state]
}

#[test]
fn fast_functions_match_the_standard_library() {
    let mut worst = [0.0f32; 3];
    for k in -40_000..=40_000 {
        let x = k as f32 / 1000.0;
        let exp = (exp_fast(x) - x.exp()).abs() / x.exp();
        let sigmoid = (sigmoid_fast(x) - 1.0 / (1.0 + (-x).exp())).abs();
        let tanh = (tanh_fast(x) - x.tanh()).abs();
        for (w, e) in worst.iter_mut().zip([exp, sigmoid, tanh]) {
            *w = w.max(e);
        }
    }
    assert!(worst[0] < 4e-7, "relative error of exp {}", worst[0]);
    assert!(worst[1] < 2e-7, "error of sigmoid {}", worst[1]);
    assert!(worst[2] < 3e-7, "error of tanh {}", worst[2]);
    // Far outside the range: saturated, never infinite or NaN.
    assert_eq!(sigmoid_fast(1e6).to_bits(), 1.0f32.to_bits());
    assert!(sigmoid_fast(-1e6) >= 0.0 && sigmoid_fast(-1e6) < 1e-37);
    assert_eq!(tanh_fast(1e6).to_bits(), 1.0f32.to_bits());
    assert_eq!(tanh_fast(-1e6).to_bits(), (-1.0f32).to_bits());
    assert!(exp_fast(f32::NAN).is_nan());
}

#[test]
fn fused_step_matches_the_tensor_operations() {
    let device = Device::flex();
    let [input, recurrent, state] = inputs(&device, 37, 13);
    let fused = step(input.clone(), recurrent.clone(), state.clone());
    let reference = ops_step(input, recurrent, state);
    assert_eq!(fused.dims(), [74, 13]);
    let difference = max_difference(fused, reference);
    assert!(difference < 1e-6, "largest difference {difference}");
}

#[test]
fn fused_gradients_match_the_tensor_operations() {
    let device = Device::flex().autodiff();
    let [input, recurrent, state] = inputs(&device, 9, 5);
    // A loss that weighs every output differently, so that a gradient
    // sent to the wrong place shows.
    let weights = Tensor::<2>::random([18, 5], Distribution::Uniform(-1.0, 1.0), &device);
    let grads_of = |fused: bool| {
        let [input, recurrent, state] =
            [&input, &recurrent, &state].map(|t| t.clone().detach().require_grad());
        let run = if fused { step } else { ops_step };
        let out = run(input.clone(), recurrent.clone(), state.clone());
        // Two steps, so the gradient also flows through a fused output;
        // the second step's input part is a strided view.
        let h = out.clone().narrow(0, 0, 9);
        let wide = Tensor::cat(vec![input.clone(), recurrent.clone()], 1);
        let out = run(wide.narrow(1, 20, 20), h.repeat_dim(1, 4) * 0.5, out);
        let grads = (out * weights.clone()).sum().backward();
        [input, recurrent, state].map(|t| t.grad(&grads).expect("a gradient"))
    };
    let fused = grads_of(true);
    let ops = grads_of(false);
    for (name, (a, b)) in ["input", "recurrent", "state"]
        .iter()
        .zip(fused.into_iter().zip(ops))
    {
        let difference = max_difference(a, b);
        assert!(difference < 1e-5, "{name}: {difference}");
    }
}

#[test]
fn flex_takes_the_fused_path_with_and_without_autodiff() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        let [input, recurrent, state] = inputs(&device, 2, 3);
        assert!(
            flex_step([&input, &recurrent, &state]).is_ok(),
            "{device:?}"
        );
        if device.is_autodiff() {
            let tracked = input.require_grad();
            assert!(
                flex_step([&tracked, &recurrent, &state]).is_ok(),
                "{device:?}"
            );
        }
    }
}
