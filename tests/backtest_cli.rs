//! `twinlab protocol --backtest-origins` through the built binary: a noisy
//! sine in a temporary CSV file, scored from rolling origins.
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const TRAIN: usize = 600;
const VALIDATION: usize = 200;
const TEST: usize = 300;
const HORIZON: usize = 12;

/// Writes a daily-periodic hourly sine with uniform noise to a fresh file.
fn noisy_sine(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twinlab-backtest-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sine.csv");
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut text = String::from("date,OT\n");
    for row in 0..TRAIN + VALIDATION + TEST {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        let phase = row as f64 * std::f64::consts::TAU / 24.0;
        let value = 10.0 + 3.0 * phase.sin() + 0.8 * noise;
        let _ = writeln!(text, "{},{value:.4}", 1_577_836_800 + 3600 * row);
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn protocol(file: &PathBuf, extra: &[&str]) -> Output {
    let parts = [
        ("--train-rows", TRAIN),
        ("--val-rows", VALIDATION),
        ("--test-rows", TEST),
        ("--lookback", 48),
        ("--horizon", HORIZON),
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_twinlab"));
    command.arg("protocol").arg(file).args(["--target", "OT"]);
    for (flag, value) in parts {
        command.arg(flag).arg(value.to_string());
    }
    command.args(extra).output().unwrap()
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn backtest_refits_on_schedule_and_scores_every_method() {
    let file = noisy_sine("schedule");
    let output = protocol(
        &file,
        &[
            "--json",
            "--hidden",
            "4",
            "--epochs",
            "2",
            "--max-train-windows",
            "100",
            "--backtest-origins",
            "5",
            "--backtest-stride",
            "20",
            "--refit-every",
            "2",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "protocol failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let backtest = &report["backtest"];

    let origins: Vec<u64> = backtest["origins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_u64().unwrap())
        .collect();
    let first = (TRAIN + VALIDATION) as u64;
    assert_eq!(origins, (0..5).map(|k| first + 20 * k).collect::<Vec<_>>());
    assert_eq!(backtest["refit_every"], 2);

    let methods = backtest["methods"].as_array().unwrap();
    let names: Vec<&str> = methods
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "persistence",
            "seasonal_naive",
            "drift",
            "linear_ar",
            "lstm"
        ]
    );
    for method in methods {
        let name = method["name"].as_str().unwrap();
        // Baselines refit at every origin, the LSTM at origins 0, 2 and 4.
        let fits = if name == "lstm" { 3 } else { 5 };
        assert_eq!(method["fits"], fits, "{name}");
        assert!(number(&method["mse"]).is_finite(), "{name}");
        assert!(number(&method["mae"]).is_finite(), "{name}");
        let per_step = method["per_step_mae"].as_array().unwrap();
        assert_eq!(per_step.len(), HORIZON, "{name}");
        assert!(per_step.iter().all(|v| number(v).is_finite()), "{name}");
    }
    let mae = |name: &str| number(&methods.iter().find(|m| m["name"] == name).unwrap()["mae"]);
    assert!(
        mae("linear_ar") < 0.7 * mae("persistence"),
        "linear AR {} vs persistence {}",
        mae("linear_ar"),
        mae("persistence")
    );
}

#[test]
fn backtest_flags_are_checked_before_training() {
    let file = noisy_sine("flags");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--backtest-origins", "3", "--backtest-stride", "0"],
            "stride of at least 1",
        ),
        (&["--refit-every", "2"], "need --backtest-origins"),
        (
            &["--backtest-origins", "3", "--fit-stride", "0"],
            "--fit-stride must be at least 1",
        ),
        (
            &[
                "--backtest-origins",
                "3",
                "--refit-every",
                "1",
                "--baselines-only",
            ],
            "--baselines-only",
        ),
    ];
    for (flags, expected) in cases {
        let output = protocol(&file, flags);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flags:?} succeeded");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
}
