//! Remaining useful life on NASA's C-MAPSS FD001 through the public API: a
//! short training run on part of the fleet must be far better than the best
//! constant guess, and the model file must carry everything needed to use it.

// Native only: these tests read files and block on futures.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use burn::tensor::Device;
use twinlab::ingest::{self, Fleet, FleetColumns, IngestOptions};
use twinlab::pipeline::TrainedModel;
use twinlab::rul::{self, RulScores, RulSetup};
use twinlab::train::{Control, Progress, block_on};

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("www/data/cmapss")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn fleet(name: &str) -> Fleet {
    let options = IngestOptions::default();
    ingest::parse_fleet(name, &data(name), &FleetColumns::default(), &options)
        .expect("the C-MAPSS file parses as a fleet")
        .fleet
}

/// The first `count` units of a fleet.
fn first_units(mut fleet: Fleet, count: usize) -> Fleet {
    fleet.units.truncate(count);
    fleet
}

#[test]
fn fd001_reads_as_100_units_each_in_cycle_order() {
    let train = fleet("train_FD001.txt");
    assert_eq!(train.units.len(), 100);
    assert_eq!(train.rows(), 20_631);
    assert_eq!(train.unit_column, "col1");
    assert_eq!(train.cycle_column, "col2");
    assert!(
        train
            .units
            .iter()
            .all(|u| u.cycles.windows(2).all(|w| w[1] > w[0]))
    );
    let shortest = train.units.iter().map(twinlab::ingest::Unit::len).min();
    assert_eq!(shortest, Some(128));

    let truth = ingest::parse_rul_values(&data("RUL_FD001.txt"), &IngestOptions::default())
        .expect("the RUL file parses");
    assert_eq!(truth.len(), 100);
    assert_eq!(&truth[..3], &[112.0, 98.0, 69.0]);

    // The sensors that move with wear: the 14 that the literature uses, and
    // sensor 6 (`col11`), whose two values still correlate with wear; then
    // the engine's age, its cycle column.
    let setup = RulSetup::suggest(&train);
    let (age, sensors) = setup.inputs.split_last().expect("inputs");
    assert_eq!(*age, train.cycle_column);
    assert!(
        sensors.len() >= 14 && sensors.len() <= 15,
        "{:?}",
        setup.inputs
    );
    for settled in ["col3", "col4", "col5", "col6", "col10"] {
        assert!(
            !setup.inputs.iter().any(|name| name == settled),
            "{settled} chosen"
        );
    }
}

#[test]
fn a_short_run_is_far_better_than_a_constant_and_reloads_the_same() {
    let train = first_units(fleet("train_FD001.txt"), 40);
    let test = first_units(fleet("test_FD001.txt"), 40);
    let truth = ingest::parse_rul_values(&data("RUL_FD001.txt"), &IngestOptions::default())
        .expect("the RUL file parses");
    let truth = &truth[..40];

    // One windowed network: the cheapest run that must already be good.
    let mut setup = RulSetup::suggest(&train);
    setup.window = 30;
    setup.members = 1;
    setup.training.forget_bias = 0.0;
    setup.hidden = 16;
    setup.smoothing = 0.1;
    setup.training.epochs = 4;
    setup.training.batch_size = 256;
    setup.training.learning_rate = 1e-2;
    let device = Device::flex();
    let model = block_on(rul::train(&train, &setup, &device, "cpu", async |_| {
        Control::Continue
    }))
    .expect("training runs");
    let evaluation =
        block_on(rul::evaluate(&model, &test, Some(truth), &device)).expect("predicts");

    let capped: Vec<f32> = truth.iter().map(|&t| t.min(setup.cap)).collect();
    let mean = capped.iter().sum::<f32>() / capped.len() as f32;
    let constant = RulScores::of(&vec![mean; capped.len()], &capped);
    let scores = evaluation.last_capped.expect("the truth is known");
    assert!(
        scores.rmse < 0.6 * constant.rmse,
        "RMSE {:.1} against {:.1} for the best constant",
        scores.rmse,
        constant.rmse
    );
    assert_eq!(evaluation.units.len(), 40);
    assert!(
        evaluation
            .units
            .iter()
            .all(|u| u.predicted.len() == u.cycles.len())
    );
    let ranking = evaluation.ranking();
    assert!(ranking.windows(2).all(|pair| pair[0].rul <= pair[1].rul));
    assert!(
        ranking
            .iter()
            .all(|e| e.lower <= e.rul && e.rul <= e.upper.max(e.rul))
    );

    // The file holds the sensors, statistics, window, cap and band: the
    // reloaded model predicts exactly the same.
    let bytes = block_on(model.to_file_bytes()).expect("saves");
    let reloaded = block_on(TrainedModel::from_file_bytes(&bytes, &device)).expect("loads");
    assert_eq!(reloaded.meta, model.meta);
    let rul = reloaded.meta.rul.as_ref().expect("a RUL model");
    assert!((rul.cap - setup.cap).abs() < f32::EPSILON);
    assert_eq!(reloaded.meta.network.lookback, setup.window);
    let again = block_on(rul::evaluate(&reloaded, &test, Some(truth), &device)).expect("predicts");
    assert_eq!(again, evaluation);
}

#[test]
fn an_ensemble_of_whole_history_networks_saves_as_one_network() {
    let train = first_units(fleet("train_FD001.txt"), 20);
    let test = first_units(fleet("test_FD001.txt"), 10);
    let truth = ingest::parse_rul_values(&data("RUL_FD001.txt"), &IngestOptions::default())
        .expect("the RUL file parses");
    let truth = &truth[..10];

    let mut setup = RulSetup::suggest(&train);
    assert_eq!((setup.window, setup.members), (0, 10));
    setup.members = 2;
    setup.hidden = 6;
    setup.training.epochs = 2;
    let device = Device::flex();
    let mut epochs = Vec::new();
    let model = block_on(rul::train(&train, &setup, &device, "cpu", async |p| {
        if let Progress::Epoch {
            epoch, epochs: of, ..
        } = p
        {
            epochs.push((epoch, of));
        }
        Control::Continue
    }))
    .expect("training runs");

    // Both members report their epochs as one run, one after the other.
    assert_eq!(epochs.first(), Some(&(1, 4)));
    assert!(epochs.windows(2).all(|pair| pair[1].0 == pair[0].0 + 1));
    assert_eq!(model.meta.history.validation_loss.len(), epochs.len());

    // One network holds both members, and every unit was held out by one.
    assert_eq!(model.meta.network.hidden, 12);
    let rul = model.meta.rul.as_ref().expect("a RUL model");
    assert_eq!(rul.members, 2);
    let ids: Vec<i64> = train.units.iter().map(|u| u.id).collect();
    assert_eq!(rul.validation_units, ids);

    let evaluation =
        block_on(rul::evaluate(&model, &test, Some(truth), &device)).expect("predicts");
    let bytes = block_on(model.to_file_bytes()).expect("saves");
    let reloaded = block_on(TrainedModel::from_file_bytes(&bytes, &device)).expect("loads");
    assert_eq!(reloaded.meta, model.meta);
    let again = block_on(rul::evaluate(&reloaded, &test, Some(truth), &device)).expect("predicts");
    assert_eq!(again, evaluation);
}

#[test]
fn a_fleet_without_the_models_sensors_is_refused_by_name() {
    let train = first_units(fleet("train_FD001.txt"), 6);
    let mut setup = RulSetup::suggest(&train);
    setup.members = 1;
    setup.hidden = 4;
    setup.training.epochs = 1;
    let device = Device::flex();
    let model = block_on(rul::train(&train, &setup, &device, "cpu", async |_| {
        Control::Continue
    }))
    .expect("training runs");

    let other = ingest::parse_fleet(
        "pumps.csv",
        b"unit,cycle,col7,vibration\n1,1,642.1,0.3\n1,2,642.3,0.4\n2,1,641.9,0.2\n",
        &FleetColumns::default(),
        &IngestOptions::default(),
    )
    .expect("parses")
    .fleet;
    let err = block_on(rul::evaluate(&model, &other, None, &device)).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("`pumps.csv` lacks the channel(s) `col8`"),
        "{message}"
    );
    assert!(!message.contains("`col7`"), "{message}");

    let err = block_on(rul::evaluate(&model, &train, Some(&[1.0, 2.0]), &device)).unwrap_err();
    assert!(
        err.to_string()
            .contains("2 value(s) but `train_FD001.txt` has 6 unit(s)"),
        "{err}"
    );
}
