//! Property tests of the file readers on untrusted bytes: random data, data behind a valid
//! signature, and mutated copies of the bundled samples (`samples/*`).
//!
//! For every input: no panic; the reader ends (at most one item per byte read); every error is
//! a `MalformedFile` naming the file at an offset inside the data; and the bytes allocated at
//! any one time stay within a fixed multiple of the input's size plus a constant, whatever a
//! length field claims. This binary counts allocations per thread with its own global
//! allocator, so each reader's peak is measured exactly.
//!
//! `PROPTEST_CASES` sets the number of cases of every property (see docs/testing.md).

use msc_media::{FilePlayer, FilePlayerOptions, H264Reader, IvfReader, MediaError, OggOpusReader};
use proptest::prelude::*;

#[path = "../proptest_config.rs"]
mod proptest_config;
use proptest::sample::Index;
use proptest_config::config;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::path::PathBuf;

/// The system allocator, counting the bytes that each thread holds and its peak.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // try_with: a thread's last frees run while its thread-locals are being torn down
    let _ = HELD.try_with(|held| {
        let now = held.get() + delta;
        held.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the most bytes it held at once (on this thread).
fn peak_bytes<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = HELD.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, (PEAK.with(Cell::get) - base).max(0) as usize)
}

/// What a reader may hold for `len` bytes of input: its read buffers (the H.264 reader reads
/// 64 KiB at a time) and a few copies of the data it returns.
fn allocation_bound(len: usize) -> usize {
    4 * len + (256 << 10)
}

fn samples_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"))
        .join("../../samples")
}

const SAMPLES: [&str; 5] = ["av1.ivf", "h264.h264", "opus.ogg", "vp8.ivf", "vp9.ivf"];

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(samples_dir().join(name)).expect("bundled sample")
}

/// One change to a sample: at a position (biased to the headers), flip a bit, set a byte, or
/// write a 32-bit value that length fields get wrong (0, 1, 2^20, 2^26, 2^32 - 1).
#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Set(Index, u8),
    Word(Index, u32),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let word = prop_oneof![
        Just(0u32),
        Just(1),
        Just(1 << 20),
        Just(1 << 26),
        Just(u32::MAX),
        any::<u32>()
    ];
    prop_oneof![
        4 => (any::<Index>(), 0..8u8).prop_map(|(i, bit)| Mutation::Flip(i, bit)),
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        3 => (any::<Index>(), word).prop_map(|(i, w)| Mutation::Word(i, w)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

/// Applies `mutations`; half of the positions fall in the first 256 bytes, where the file and
/// first frame headers are.
fn mutate(mut data: Vec<u8>, mutations: &[(bool, Mutation)]) -> Vec<u8> {
    for (in_head, m) in mutations {
        if data.is_empty() {
            break;
        }
        let span = if *in_head {
            data.len().min(256)
        } else {
            data.len()
        };
        match m {
            Mutation::Flip(i, bit) => data[i.index(span)] ^= 1 << bit,
            Mutation::Set(i, b) => data[i.index(span)] = *b,
            Mutation::Word(i, w) => {
                let at = i.index(span);
                let end = (at + 4).min(data.len());
                data[at..end].copy_from_slice(&w.to_le_bytes()[..end - at]);
            }
            Mutation::Truncate(i) => data.truncate(i.index(data.len())),
        }
    }
    data
}

fn mutations() -> impl Strategy<Value = Vec<(bool, Mutation)>> {
    proptest::collection::vec((any::<bool>(), mutation()), 1..12)
}

/// Reads every item of `items`, checking the properties; returns the number of items.
fn drain<T>(
    len: usize,
    items: impl Iterator<Item = Result<T, MediaError>>,
) -> Result<usize, TestCaseError> {
    let mut n = 0;
    for item in items {
        match item {
            Ok(_) => n += 1,
            Err(e) => {
                check_error(&e, len)?;
                break;
            }
        }
        prop_assert!(
            n <= len + 1,
            "{n} items from {len} bytes: the reader does not end"
        );
    }
    Ok(n)
}

fn check_error(e: &MediaError, len: usize) -> Result<(), TestCaseError> {
    match e {
        MediaError::MalformedFile { file, offset, .. } => {
            prop_assert_eq!(file.as_str(), "fuzz");
            prop_assert!(
                *offset <= len as u64,
                "offset {} past the end ({})",
                offset,
                len
            );
        }
        other => prop_assert!(false, "not a MalformedFile error: {other:?}"),
    }
    Ok(())
}

/// Parses `data` with the reader of `format` and checks the properties.
fn read_all(format: usize, data: &[u8]) -> Result<(), TestCaseError> {
    let len = data.len();
    let (result, peak) = peak_bytes(|| -> Result<(), TestCaseError> {
        let cursor = Cursor::new(data);
        match format {
            0 => match IvfReader::new("fuzz", cursor) {
                Ok(r) => drain(len, r).map(drop),
                Err(e) => check_error(&e, len),
            },
            1 => match OggOpusReader::new("fuzz", cursor) {
                Ok(r) => drain(len, r).map(drop),
                Err(e) => check_error(&e, len),
            },
            _ => match H264Reader::new("fuzz", cursor, 30.0) {
                Ok(r) => drain(len, r).map(drop),
                Err(e) => check_error(&e, len),
            },
        }
    });
    result?;
    prop_assert!(
        peak <= allocation_bound(len),
        "{peak} bytes held at once for {len} bytes of input"
    );
    Ok(())
}

fn format_of(name: &str) -> usize {
    match name.rsplit('.').next() {
        Some("ivf") => 0,
        Some("ogg") => 1,
        _ => 2,
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn random_bytes(format in 0..3usize, data in proptest::collection::vec(any::<u8>(), 0..600)) {
        read_all(format, &data)?;
    }

    #[test]
    fn random_bytes_behind_a_signature(
        format in 0..3usize,
        data in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut input = match format {
            0 => b"DKIF\0\0\x20\0VP80".to_vec(),
            1 => b"OggS\0\x02".to_vec(),
            _ => vec![0, 0, 0, 1, 0x67],
        };
        input.extend(data);
        read_all(format, &input)?;
    }

    #[test]
    fn mutated_samples(which in 0..SAMPLES.len(), changes in mutations()) {
        let name = SAMPLES[which];
        read_all(format_of(name), &mutate(sample(name), &changes))?;
    }
}

proptest! {
    // each case writes a file: fewer by default
    #![proptest_config(config(24))]

    /// The file player's probe (format recognition, header and first frame) on mutated files.
    #[test]
    fn mutated_samples_through_the_file_player(which in 0..SAMPLES.len(), changes in mutations()) {
        let data = mutate(sample(SAMPLES[which]), &changes);
        let path = std::env::temp_dir().join(format!(
            "msc-fuzz-{}-{which}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, &data).unwrap();
        let (opened, peak) = peak_bytes(|| FilePlayer::open(&path, FilePlayerOptions::default()).map(drop));
        std::fs::remove_file(&path).unwrap();
        if let Err(e) = opened {
            let shown = e.to_string();
            prop_assert!(
                matches!(e, MediaError::MalformedFile { offset, .. } if offset <= data.len() as u64),
                "{shown}"
            );
            prop_assert!(shown.starts_with(&path.display().to_string()), "{shown}");
        }
        prop_assert!(peak <= allocation_bound(data.len()), "{peak} bytes for a {}-byte file", data.len());
    }
}

/// A corrupt IVF frame size (here 4 MiB, in a 100-byte file) is not reserved up front.
#[test]
fn an_ivf_frame_size_claim_is_not_allocated() {
    let mut data = b"DKIF\0\0\x20\0VP80".to_vec();
    data.extend([
        0x40, 1, 0xf0, 0, 30, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
    ]);
    data.extend((4u32 << 20).to_le_bytes());
    data.extend([0u8; 8]);
    data.extend([0x55u8; 56]);
    let (result, peak) = peak_bytes(|| {
        IvfReader::new("fuzz", Cursor::new(&data))
            .unwrap()
            .next_frame()
    });
    assert!(result
        .unwrap_err()
        .to_string()
        .contains("truncated frame: 4194304 bytes expected, 56 found"));
    assert!(peak < 32 << 10, "{peak} bytes held for a 100-byte file");
}

/// Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, initial value 0), to write test pages.
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &byte in data {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// One Ogg page of stream 1 with `lacing` and `body`.
fn ogg_page(flags: u8, sequence: u32, lacing: &[u8], body: &[u8]) -> Vec<u8> {
    let mut page = b"OggS\0".to_vec();
    page.push(flags);
    page.extend(0u64.to_le_bytes()); // granule position
    page.extend(1u32.to_le_bytes()); // serial
    page.extend(sequence.to_le_bytes());
    page.extend([0; 4]); // CRC, set below
    page.push(lacing.len() as u8);
    page.extend_from_slice(lacing);
    page.extend_from_slice(body);
    let crc = ogg_crc(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// A packet continued over page after page is refused past 1 MiB instead of buffered for as
/// long as the file goes on.
#[test]
fn an_ogg_packet_continued_without_end_is_refused_past_1_mib() {
    let mut head = b"OpusHead\x01\x01".to_vec();
    head.extend([0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
    let mut data = ogg_page(0x02, 0, &[head.len() as u8], &head);
    let tags = b"OpusTags\0\0\0\0\0\0\0\0";
    data.extend(ogg_page(0, 1, &[tags.len() as u8], tags));
    // 18 pages of 255 segments of 255 bytes: one packet of 1.1 MiB that never ends
    let body = vec![0xfcu8; 255 * 255];
    for sequence in 2..20 {
        let flags = if sequence == 2 { 0 } else { 0x01 };
        data.extend(ogg_page(flags, sequence, &[255; 255], &body));
    }
    let reader = OggOpusReader::new("fuzz", Cursor::new(&data)).unwrap();
    let (result, peak) = peak_bytes(|| reader.collect::<Result<Vec<_>, _>>());
    let e = result.unwrap_err().to_string();
    assert!(
        e.contains("a packet continued over pages grows past 1048576 bytes"),
        "{e}"
    );
    assert!(peak < 3 << 20, "{peak} bytes held at once");
}
