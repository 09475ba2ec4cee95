use super::*;
use std::io::Cursor;

/// One Ogg page from pieces `(bytes, ends)`; a piece that does not end must be a multiple of
/// 255 bytes long.
fn page(flags: u8, granule: i64, serial: u32, seq: u32, pieces: &[(&[u8], bool)]) -> Vec<u8> {
    let mut lacing = Vec::new();
    let mut body = Vec::new();
    for (bytes, ends) in pieces {
        lacing.extend(std::iter::repeat_n(255u8, bytes.len() / 255));
        if *ends {
            lacing.push((bytes.len() % 255) as u8);
        } else {
            assert_eq!(bytes.len() % 255, 0);
        }
        body.extend_from_slice(bytes);
    }
    let mut p = b"OggS".to_vec();
    p.push(0);
    p.push(flags);
    p.extend(granule.to_le_bytes());
    p.extend(serial.to_le_bytes());
    p.extend(seq.to_le_bytes());
    p.extend([0; 4]);
    p.push(lacing.len() as u8);
    p.extend(&lacing);
    p.extend(&body);
    let crc = crc32(0, &p);
    p[22..26].copy_from_slice(&crc.to_le_bytes());
    p
}

fn head(channels: u8, pre_skip: u16) -> Vec<u8> {
    let mut h = b"OpusHead".to_vec();
    h.push(1);
    h.push(channels);
    h.extend(pre_skip.to_le_bytes());
    h.extend(48_000u32.to_le_bytes());
    h.extend(0i16.to_le_bytes());
    h.push(0);
    h
}

fn tags() -> Vec<u8> {
    let mut t = b"OpusTags".to_vec();
    t.extend(4u32.to_le_bytes());
    t.extend(b"test");
    t.extend(0u32.to_le_bytes());
    t
}

/// A 20 ms CELT packet (TOC config 31, one frame) of `len` bytes.
fn packet(len: usize, fill: u8) -> Vec<u8> {
    let mut p = vec![fill; len];
    p[0] = 0xf8;
    p
}

const S: u32 = 0x1234;

fn headers() -> Vec<u8> {
    let mut f = page(FLAG_BOS, 0, S, 0, &[(&head(2, 312), true)]);
    f.extend(page(0, 0, S, 1, &[(&tags(), true)]));
    f
}

fn read_all(bytes: Vec<u8>) -> Result<Vec<OggOpusPacket>, MediaError> {
    OggOpusReader::new("voice.opus", Cursor::new(bytes))?.collect()
}

#[test]
fn crc_is_ogg_s_crc32() {
    // CRC-32/POSIX (cksum) without its final inversion: check value 0x765e7680 ^ !0.
    assert_eq!(crc32(0, b"123456789"), 0x765e_7680 ^ 0xffff_ffff);
}

#[test]
fn reads_head_skips_tags_and_times_packets() {
    let (a, b, c) = (packet(100, 1), packet(50, 2), packet(3, 3));
    let mut f = headers();
    f.extend(page(
        0,
        312 + 2880,
        S,
        2,
        &[(&a, true), (&b, true), (&c, true)],
    ));
    f.extend(page(FLAG_EOS, 312 + 3840, S, 3, &[(&packet(10, 4), true)]));
    let mut r = OggOpusReader::new("voice.opus", Cursor::new(f)).unwrap();
    assert_eq!(
        *r.head(),
        OpusHead {
            channels: 2,
            pre_skip: 312,
            input_sample_rate: 48_000,
            output_gain: 0,
            mapping_family: 0
        }
    );
    let packets: Vec<OggOpusPacket> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(packets.len(), 4);
    assert_eq!(packets[0].data.to_vec(), a);
    assert_eq!(packets[2].data.to_vec(), c);
    assert_eq!(
        packets
            .iter()
            .map(|p| p.position_samples)
            .collect::<Vec<_>>(),
        [0, 960, 1920, 2880]
    );
    assert_eq!(
        packets.iter().map(|p| p.timestamp_us()).collect::<Vec<_>>(),
        [0, 20_000, 40_000, 60_000]
    );
    assert!(packets.iter().all(|p| p.duration_us() == 20_000));
    assert_eq!(
        packets
            .iter()
            .map(|p| p.granule_position)
            .collect::<Vec<_>>(),
        [None, None, Some(312 + 2880), Some(312 + 3840)]
    );
    assert!(r.next_packet().unwrap().is_none());
}

#[test]
fn packets_spanning_pages_and_multi_page_tags_are_joined() {
    let big = packet(600, 7);
    let exact = packet(255, 8); // lacing 255 then 0
    let long_tags = {
        let mut t = tags();
        t.resize(510, b'x');
        t
    };
    let mut f = page(FLAG_BOS, 0, S, 0, &[(&head(1, 0), true)]);
    f.extend(page(0, -1, S, 1, &[(&long_tags[..255], false)]));
    f.extend(page(FLAG_CONTINUED, 0, S, 2, &[(&long_tags[255..], true)]));
    // A page of another logical stream in between: skipped.
    f.extend(page(FLAG_BOS, 0, 99, 0, &[(b"\x80theora", true)]));
    f.extend(page(0, -1, S, 3, &[(&exact, true), (&big[..510], false)]));
    f.extend(page(FLAG_CONTINUED, 1920, S, 4, &[(&big[510..], true)]));
    let packets = read_all(f).unwrap();
    assert_eq!(packets.len(), 2);
    assert_eq!(packets[0].data.to_vec(), exact);
    assert_eq!(packets[0].granule_position, None, "page granule -1: none");
    assert_eq!(packets[1].data.to_vec(), big);
    assert_eq!(packets[1].granule_position, Some(1920));
    assert_eq!(packets[1].position_samples, 960);
}

#[test]
fn opus_durations_from_the_toc() {
    let d = |toc: u8, second: u8| opus_duration(&[toc, second]);
    assert_eq!(d(0, 0), Some(480)); // SILK 10 ms
    assert_eq!(d(3 << 3, 0), Some(2880)); // SILK 60 ms
    assert_eq!(d(12 << 3, 0), Some(480)); // hybrid 10 ms
    assert_eq!(d(13 << 3, 0), Some(960)); // hybrid 20 ms
    assert_eq!(d(16 << 3, 0), Some(120)); // CELT 2.5 ms
    assert_eq!(d(31 << 3 | 1, 0), Some(1920)); // two 20 ms frames
    assert_eq!(d(31 << 3 | 2, 0), Some(1920));
    assert_eq!(d(31 << 3 | 3, 3), Some(2880)); // code 3, three frames
    assert_eq!(d(31 << 3 | 3, 7), None); // 140 ms > 120 ms
    assert_eq!(d(31 << 3 | 3, 0), None); // zero frames
    assert_eq!(opus_duration(&[31 << 3 | 3]), None); // frame count missing
}

#[test]
fn malformed_files_name_the_file_and_the_offset() {
    let mut good = headers();
    let audio_page = good.len();
    good.extend(page(0, 960, S, 2, &[(&packet(40, 1), true)]));

    let e = read_all(Vec::new()).unwrap_err().to_string();
    assert_eq!(
        e,
        "voice.opus: malformed Ogg/Opus at byte offset 0: empty file: no Ogg page"
    );

    let mut bad = good.clone();
    bad[audio_page + 27 + 1 + 5] ^= 0xff; // a byte of the packet
    let e = read_all(bad).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "voice.opus: malformed Ogg/Opus at byte offset {audio_page}: page checksum mismatch"
        )),
        "{e}"
    );

    let e = read_all(good[..good.len() - 10].to_vec())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "voice.opus: malformed Ogg/Opus at byte offset {}: truncated page body: 40 bytes \
             expected, 30 found before the end of the file",
            audio_page + 28
        )
    );

    let e = read_all(good[..audio_page + 10].to_vec())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("offset {audio_page}: truncated page header")),
        "{e}"
    );

    let mut bad = good.clone();
    bad[audio_page] = b'X';
    let e = read_all(bad).unwrap_err().to_string();
    assert!(
        e.contains(&format!("offset {audio_page}: no OggS capture pattern")),
        "{e}"
    );

    let mut not_opus = page(
        FLAG_BOS,
        0,
        S,
        0,
        &[(b"\x01vorbis\0\0\0\0\x02\0\0\0\0\0\0\0\0", true)],
    );
    not_opus.extend(&good[good.len() - 40..]);
    let e = read_all(not_opus).unwrap_err().to_string();
    assert!(
        e.contains("offset 0: the first packet is not an OpusHead"),
        "{e}"
    );

    let no_bos = page(0, 0, S, 0, &[(&head(2, 0), true)]);
    let e = read_all(no_bos).unwrap_err().to_string();
    assert!(e.contains("BOS flag unset"), "{e}");

    let mut no_tags = page(FLAG_BOS, 0, S, 0, &[(&head(2, 0), true)]);
    no_tags.extend(page(0, 960, S, 1, &[(&packet(40, 1), true)]));
    let e = read_all(no_tags).unwrap_err().to_string();
    assert!(e.contains("the second packet is not OpusTags"), "{e}");

    let mut cut = headers();
    cut.extend(page(0, -1, S, 2, &[(&packet(255, 1), false)]));
    let e = read_all(cut).unwrap_err().to_string();
    assert!(e.contains("the file ends inside a packet"), "{e}");

    let mut bad_toc = headers();
    let at = bad_toc.len();
    bad_toc.extend(page(0, 960, S, 2, &[(&[0xfb, 0x00, 1, 2], true)]));
    let e = read_all(bad_toc).unwrap_err().to_string();
    assert!(
        e.contains(&format!("offset {at}: invalid Opus packet at position 0")),
        "{e}"
    );
}

#[test]
fn a_stream_cut_in_a_packet_skips_the_orphan_continuation() {
    let mut f = headers();
    // First audio page continues a packet that is not in the file.
    f.extend(page(
        FLAG_CONTINUED,
        960,
        S,
        7,
        &[(&[9u8; 30], true), (&packet(20, 5), true)],
    ));
    let packets = read_all(f).unwrap();
    assert_eq!(packets.len(), 1);
    assert_eq!(packets[0].data.to_vec(), packet(20, 5));
}

#[test]
fn open_reports_the_path() {
    let e = OggOpusReader::open("/nonexistent/voice.opus")
        .err()
        .unwrap();
    assert!(e
        .to_string()
        .starts_with("/nonexistent/voice.opus: cannot open"));
}
