//! Ingest speed and memory for a big file: builds in memory a CSV of
//! 1,000,000 one-second readings of 10 sensors with an ISO 8601 time column
//! (seeded, the same on every run), then prints its size, the median time
//! of 3 runs of `ingest::parse` as seconds, rows/s and MB/s, the peak memory
//! of one parse, and how often `parse_with_progress` reports.
//!
//! The memory figure is the growth of the peak resident set (`VmHWM` in
//! `/proc/self/status`, reset through `/proc/self/clear_refs`) over the
//! resident set before parsing, so it is Linux only. It is not a heap count:
//! the crate forbids `unsafe` code (`[lints]` in `Cargo.toml`), and a
//! counting global allocator needs an `unsafe impl GlobalAlloc`. Memory
//! freed earlier and kept by the allocator can serve the parse without
//! growing the resident set, so the figure can be an underestimate.
//!
//! MB are 10^6 bytes. Run with `cargo bench --bench ingest`.

// Native only: it reads the process's memory figures from `/proc`.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::fmt::Write as _;
    use std::time::Instant;

    use twinlab::ingest::{self, IngestOptions, Ingested, ParseProgress};
    use twinlab::train::SplitMix64;

    const ROWS: usize = 1_000_000;

    const RUNS: usize = 3;

    const MB: f64 = 1e6;

    /// One simulated sensor: name, level, swing, period in seconds, noise
    /// and decimals written.
    struct Sensor {
        name: &'static str,
        level: f64,
        swing: f64,
        period_secs: f64,
        noise: f64,
        decimals: usize,
    }

    const SENSORS: [Sensor; 10] = [
        sensor("temperature_c", 65.0, 8.0, 86_400.0, 0.2, 2),
        sensor("pressure_kpa", 101.3, 1.5, 43_200.0, 0.05, 3),
        sensor("vibration_mm_s", 2.5, 0.8, 600.0, 0.3, 3),
        sensor("flow_l_min", 120.0, 15.0, 7_200.0, 1.0, 2),
        sensor("current_a", 14.0, 3.0, 3_600.0, 0.1, 3),
        sensor("voltage_v", 400.0, 4.0, 1_800.0, 0.5, 2),
        sensor("speed_rpm", 1_480.0, 20.0, 900.0, 2.0, 1),
        sensor("humidity_pct", 45.0, 10.0, 86_400.0, 0.5, 2),
        sensor("torque_nm", 85.0, 12.0, 3_600.0, 0.8, 2),
        sensor("power_kw", 7.5, 1.5, 3_600.0, 0.05, 3),
    ];

    const fn sensor(
        name: &'static str,
        level: f64,
        swing: f64,
        period_secs: f64,
        noise: f64,
        decimals: usize,
    ) -> Sensor {
        Sensor {
            name,
            level,
            swing,
            period_secs,
            noise,
            decimals,
        }
    }

    /// The CSV: a header, then one row a second from 2024-01-01 UTC.
    fn generate(rows: usize, seed: u64) -> String {
        let start = jiff::Timestamp::from_second(1_704_067_200).expect("2024-01-01 is valid");
        let mut rng = SplitMix64::new(seed);
        let mut text = String::with_capacity(rows * 100);

        text.push_str("time");
        for sensor in &SENSORS {
            write!(text, ",{}", sensor.name).expect("writing to a String cannot fail");
        }
        text.push('\n');

        for row in 0..rows {
            let time = start + jiff::SignedDuration::from_secs(row as i64);
            write!(text, "{time}").expect("writing to a String cannot fail");
            for sensor in &SENSORS {
                let phase = std::f64::consts::TAU * row as f64 / sensor.period_secs;
                let noise = (rng.next_unit() - 0.5) * 2.0 * sensor.noise;
                let value = sensor.level + sensor.swing * phase.sin() + noise;
                write!(text, ",{value:.*}", sensor.decimals)
                    .expect("writing to a String cannot fail");
            }
            text.push('\n');
        }
        text
    }

    /// A field of `/proc/self/status` in bytes (the file gives kB).
    fn status_bytes(field: &str) -> Option<usize> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        status.lines().find_map(|line| {
            let kib: usize = line
                .strip_prefix(field)?
                .strip_prefix(':')?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()?;
            Some(kib * 1024)
        })
    }

    /// Parses `bytes` once and returns the growth of the peak resident set
    /// over the resident set before, if this system says.
    fn peak_growth(bytes: &[u8], options: &IngestOptions) -> Option<usize> {
        // Writing 5 sets the peak resident set to the current one.
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
        let before = status_bytes("VmRSS")?;
        let ingested = parse(bytes, options);
        let peak = status_bytes("VmHWM")?;
        drop(ingested);
        Some(peak.saturating_sub(before))
    }

    fn parse(bytes: &[u8], options: &IngestOptions) -> Ingested {
        ingest::parse("bench.csv", bytes, options).expect("the generated file parses")
    }

    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    pub fn main() {
        let options = IngestOptions::default();
        let started = Instant::now();
        let text = generate(ROWS, 7);
        let bytes = text.as_bytes();
        let size_mb = bytes.len() as f64 / MB;
        println!(
            "ingest::parse: {ROWS} rows × {} sensors + ISO 8601 time, generated in {:.2} s",
            SENSORS.len(),
            started.elapsed().as_secs_f64()
        );
        println!("file size        {size_mb:.1} MB ({} bytes)", bytes.len());

        // The first parse measures memory and warms up.
        let growth = peak_growth(bytes, &options);

        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            let ingested = parse(bytes, &options);
            times.push(started.elapsed().as_secs_f64());
            assert_eq!(ingested.report.rows, ROWS, "every generated row is kept");
        }
        let secs = median(times);
        println!("seconds          {secs:.3} (median of {RUNS})");
        println!("rows/s           {:.0}", ROWS as f64 / secs);
        println!("MB/s             {:.1}", size_mb / secs);

        match growth {
            Some(growth) => println!(
                "peak memory      {:.1} MB over the file already in memory ({:.2} × the file \
                 size; peak resident set growth)",
                growth as f64 / MB,
                growth as f64 / bytes.len() as f64
            ),
            None => println!("peak memory      not measured: no /proc/self on this system"),
        }

        let mut calls: Vec<ParseProgress> = Vec::new();
        let started = Instant::now();
        let result =
            ingest::parse_with_progress("bench.csv", bytes, &options, &mut |p| calls.push(p));
        let secs = started.elapsed().as_secs_f64();
        assert!(result.is_ok(), "the generated file parses with progress");
        let rows_apart = calls
            .windows(2)
            .map(|pair| pair[1].rows - pair[0].rows)
            .min()
            .unwrap_or_default();
        println!(
            "progress         {} calls from parse_with_progress ({secs:.3} s), at least \
             {rows_apart} rows apart",
            calls.len()
        );
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    native::main();
}
