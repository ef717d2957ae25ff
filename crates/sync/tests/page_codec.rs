//! The sync pages' binary form: a round trip keeps every row; anything corrupt, truncated,
//! oversized, of another protocol or a zip bomb is refused with an error, never a panic
//! (SECURITY.md #26: the sync decoder is fuzzed, here with proptest).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canopy_core::sync::codec::{self, CodecError, MAX_COMPRESSED, MAX_DECOMPRESSED};
use canopy_core::sync::{BootstrapPage, DeltaBatch, DeltaOp, MAX_ROWS, PROTOCOL, Row, VolumeRow};
use canopy_core::{
    CountryCode, Email, Member, MemberId, MemberNumber, MemberStatus, Period, PersonName,
    PersonalDetails, Pv, Rank,
};
use proptest::prelude::*;

fn member(id: i64) -> Member {
    Member {
        id: MemberId::new(id),
        number: MemberNumber::parse(&format!("{}", 10_000_000 + id)).unwrap(),
        sponsor: (id > 1).then(|| MemberId::new(id / 2)),
        placement: None,
        rank: Rank::new(1, "Bronze"),
        status: MemberStatus::Active,
        joined_on: time::macros::date!(2025 - 03 - 04),
        country: CountryCode::parse("DE").unwrap(),
        display_name: PersonName::parse("Zoë M.").unwrap(),
        personal: (id % 2 == 0).then(|| PersonalDetails {
            email: Some(Email::parse(&format!("zoe{id}@example.de")).unwrap()),
            ..PersonalDetails::with_name(PersonName::parse("Zoë Müller").unwrap())
        }),
    }
}

fn page(rows: usize) -> BootstrapPage {
    let period = Period::parse("2026-10").unwrap();
    let mut out = Vec::new();
    for i in 0..rows as i64 {
        out.push(if i % 3 == 2 {
            Row::Volume(VolumeRow {
                member: MemberId::new(i),
                period,
                pv: Pv::from_hundredths(i * 7),
            })
        } else {
            Row::Member(Box::new(member(i + 1)))
        });
    }
    BootstrapPage {
        protocol: PROTOCOL,
        checkpoint: "cp-20261121-0001".into(),
        page: 3,
        rows_total: 1_000_000,
        last: false,
        rows: out,
    }
}

/// A body built by hand, bypassing `encode_page`'s own checks.
fn raw_body<T: serde::Serialize>(message: &T, version: u8) -> Vec<u8> {
    let mut body = b"CNPY".to_vec();
    body.push(version);
    body.extend(zstd::bulk::compress(&rmp_serde::to_vec_named(message).unwrap(), 1).unwrap());
    body
}

#[test]
fn pages_and_deltas_round_trip_compactly() {
    let p = page(3_000);
    let body = codec::encode_page(&p).unwrap();
    assert_eq!(codec::decode_page(&body).unwrap(), p);
    // Field names and repeated values compress away: well under 40 bytes a row.
    assert!(body.len() < 3_000 * 40, "{} bytes", body.len());

    let batch = DeltaBatch {
        protocol: PROTOCOL,
        from: "c-1".into(),
        to: "c-2".into(),
        ops: vec![
            DeltaOp::Put(Row::Member(Box::new(member(4)))),
            DeltaOp::RemoveMember(MemberId::new(9)),
        ],
        more: false,
        checksum: Some("abc".into()),
    };
    let body = codec::encode_delta(&batch).unwrap();
    assert_eq!(codec::decode_delta(&body).unwrap(), batch);
}

#[test]
fn bad_bodies_are_refused_with_a_reason() {
    let good = codec::encode_page(&page(10)).unwrap();
    let mut other_protocol = good.clone();
    other_protocol[4] = 9;
    let mut too_many = page(0);
    too_many.rows = (0..=MAX_ROWS as i64)
        .map(|i| {
            Row::Volume(VolumeRow {
                member: MemberId::new(i),
                period: Period::parse("2026-10").unwrap(),
                pv: Pv::from_hundredths(1),
            })
        })
        .collect();
    let mut no_token = page(1);
    no_token.checkpoint.clear();
    // 65 MiB of zeros compress to a few KiB: a zip bomb.
    let bomb = {
        let mut body = b"CNPY".to_vec();
        body.push(PROTOCOL as u8);
        body.extend(zstd::bulk::compress(&vec![0u8; MAX_DECOMPRESSED + 1024 * 1024], 3).unwrap());
        body
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "not a sync message"),
        ("json", br#"{"rows":[]}"#.to_vec(), "not a sync message"),
        ("other protocol", other_protocol, "sync protocol 9"),
        ("truncated", good[..good.len() / 2].to_vec(), "damaged"),
        (
            "not msgpack",
            raw_body(&"just a string", PROTOCOL as u8),
            "damaged",
        ),
        (
            "too many rows",
            raw_body(&too_many, PROTOCOL as u8),
            "more than the 50000 allowed",
        ),
        (
            "empty checkpoint",
            raw_body(&no_token, PROTOCOL as u8),
            "sync token",
        ),
        (
            "oversized",
            vec![0u8; MAX_COMPRESSED + 1],
            "larger than allowed",
        ),
        ("zip bomb", bomb, "damaged"),
    ];
    for (name, body, expected) in cases {
        let err = codec::decode_page(&body).unwrap_err();
        assert!(err.to_string().contains(expected), "{name}: {err}");
    }
    assert!(matches!(
        codec::encode_page(&too_many),
        Err(CodecError::Invalid(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_the_decoder(body in proptest::collection::vec(any::<u8>(), 0..2_048)) {
        let _ = codec::decode_page(&body);
        let _ = codec::decode_delta(&body);
    }

    #[test]
    fn damaged_pages_decode_to_an_error_or_to_a_valid_page(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut body = codec::encode_page(&page(40)).unwrap();
        for (at, byte) in flips {
            let i = at.index(body.len());
            body[i] ^= byte | 1;
        }
        if let Ok(p) = codec::decode_page(&body) {
            prop_assert!(p.validate().is_ok());
        }
    }
}
