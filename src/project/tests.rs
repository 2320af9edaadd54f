use super::*;
use crate::twin::{Fault, FaultKind, SimChannel};

fn model_file() -> Vec<u8> {
    artifact::encode(&artifact::tests::meta(), &[7, 8, 9]).unwrap()
}

fn project() -> Project {
    let drift = FaultKind::Drift {
        channel: SimChannel::Vibration,
        rate_per_hour: 2.0,
    };
    Project {
        task: "twin".to_owned(),
        series: Some(DataFile::keep("pump.csv", b"time,a\n1,2\n2,3\n")),
        setup: None,
        fleet: FleetFiles {
            train: Some(DataFile::demo("train_FD001.txt", "fd001")),
            ..FleetFiles::default()
        },
        model: Some(ByteBuf::from(model_file())),
        twin: Some(TwinProject {
            source: "sim".to_owned(),
            config: SessionConfig::default(),
            custom: false,
            speed: 1000.0,
            playing: false,
            history: SessionHistory {
                injected: vec![Fault::new(drift, 900, 300)],
                actions: Vec::new(),
                position: 400,
            },
            events: Vec::new(),
        }),
    }
}

#[test]
fn a_project_comes_back_as_it_was_saved() {
    let bytes = project().encode().unwrap();
    assert!(bytes.starts_with(MAGIC));
    assert_eq!(Project::decode(&bytes).unwrap(), project());
}

#[test]
fn large_files_are_named_but_not_kept() {
    let big = vec![b'1'; MAX_EMBEDDED_BYTES + 1];
    let file = DataFile::keep("big.csv", &big);
    assert_eq!(
        file.source,
        DataSource::Omitted {
            size: big.len() as u64
        }
    );
    assert!(matches!(
        DataFile::keep("small.csv", b"a\n1\n").source,
        DataSource::Embedded { .. }
    ));
}

#[test]
fn every_cut_of_a_project_is_refused_as_cut_short() {
    let bytes = project().encode().unwrap();
    for len in 1..bytes.len() {
        let err = Project::decode(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, ProjectError::Truncated { .. }),
            "cut at {len}: {err}"
        );
        assert!(err.to_string().contains("cut short"), "{err}");
    }
}

#[test]
fn a_flipped_bit_anywhere_is_refused() {
    let bytes = project().encode().unwrap();
    // Every byte of the header and a spread of the body.
    let positions = (0..HEADER_LEN).chain((HEADER_LEN..bytes.len()).step_by(7));
    for at in positions {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        assert!(
            Project::decode(&damaged).is_err(),
            "a flip at byte {at} was taken"
        );
    }
    let mut body = bytes.clone();
    let last = body.len() - 1;
    body[last] ^= 0x01;
    assert_eq!(Project::decode(&body), Err(ProjectError::Corrupted));
}

#[test]
fn foreign_files_say_what_they_are_not() {
    let err = |bytes: &[u8]| Project::decode(bytes).unwrap_err();
    assert_eq!(err(b""), ProjectError::NotAProject);
    assert_eq!(err(b"time,value\n1,2\n"), ProjectError::NotAProject);
    assert_eq!(err(&[0xff, 0xfe, 0x00, 0x01]), ProjectError::NotAProject);
    let model = model_file();
    assert_eq!(err(&model), ProjectError::NotAProject);
    assert!(is_model_file(&model));
    assert!(!is_model_file(&project().encode().unwrap()));

    let mut newer = project().encode().unwrap();
    newer[16] = 2;
    assert_eq!(err(&newer), ProjectError::Version(2));
    let mut longer = project().encode().unwrap();
    longer.extend_from_slice(b"junk");
    assert!(matches!(err(&longer), ProjectError::Body(_)));
}

#[test]
fn a_project_with_a_broken_model_is_refused() {
    let mut broken = project();
    broken.model = Some(ByteBuf::from(b"TWINLAB\0junk".to_vec()));
    let bytes = broken.encode().unwrap();
    let err = Project::decode(&bytes).unwrap_err();
    assert!(matches!(err, ProjectError::Model(_)), "{err}");
    assert!(err.to_string().contains("model"), "{err}");
}

#[test]
fn a_body_that_is_not_a_project_is_refused() {
    let mut body = Vec::new();
    ciborium::into_writer(&vec![1, 2, 3], &mut body).unwrap();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    assert!(matches!(
        Project::decode(&bytes),
        Err(ProjectError::Body(_))
    ));
}
