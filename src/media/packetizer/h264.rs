//! H.264 (RFC 6184), packetization-mode 1: single NAL unit, STAP-A, FU-A. Ours, not rtc-rtp's.
//!
//! rtc-rtp's `H264Payloader` holds SPS and PPS back to send them as one STAP-A before the next
//! NAL unit, and silently drops them when that STAP-A does not fit the MTU; it aggregates
//! nothing else. Here:
//! - the input is one Annex B access unit; AUD and filler NAL units are dropped;
//! - consecutive NAL units that fit together go out as one STAP-A, a NAL unit that fits alone
//!   as a single NAL unit packet, a larger one as FU-A fragments;
//! - the last SPS and PPS seen are kept and put in front of a keyframe that lacks them:
//!   mediasoup recognises an H.264 keyframe by the SPS in its packets, and a receiver that
//!   joins later needs them to decode.

use super::Packetized;
use crate::MediaError;
use bytes::{BufMut, Bytes, BytesMut};

const IDR: u8 = 5;
const SPS: u8 = 7;
const PPS: u8 = 8;
const AUD: u8 = 9;
const FILLER: u8 = 12;
const STAP_A: u8 = 24;
const FU_A: u8 = 28;

#[derive(Debug, Default)]
pub(super) struct H264 {
    sps: Option<Bytes>,
    pps: Option<Bytes>,
}

impl H264 {
    pub(super) fn packetize(
        &mut self,
        frame: &Bytes,
        keyframe: Option<bool>,
        mtu: usize,
    ) -> Result<Packetized, MediaError> {
        let mut nalus: Vec<Bytes> = split_annex_b(frame)?
            .into_iter()
            .filter(|n| !matches!(nal_type(n), AUD | FILLER))
            .collect();
        if nalus.is_empty() {
            return Err(MediaError::malformed(
                "H264",
                "the access unit holds no NAL unit to send (only delimiters or filler)",
            ));
        }
        let keyframe = keyframe.unwrap_or_else(|| nalus.iter().any(|n| nal_type(n) == IDR));

        let has_sps = nalus.iter().any(|n| nal_type(n) == SPS);
        let has_pps = nalus.iter().any(|n| nal_type(n) == PPS);
        if keyframe {
            if !has_pps {
                if let Some(pps) = &self.pps {
                    let at = nalus
                        .iter()
                        .rposition(|n| nal_type(n) == SPS)
                        .map_or(0, |i| i + 1);
                    nalus.insert(at, pps.clone());
                }
            }
            if !has_sps {
                if let Some(sps) = &self.sps {
                    nalus.insert(0, sps.clone());
                }
            }
        }
        for n in &nalus {
            match nal_type(n) {
                SPS => self.sps = Some(n.clone()),
                PPS => self.pps = Some(n.clone()),
                _ => {}
            }
        }

        let mut payloads = Vec::new();
        let mut group: Vec<Bytes> = Vec::new();
        let mut group_size = 1; // STAP-A header
        for nalu in nalus {
            if nalu.len() > mtu {
                flush(&mut group, &mut payloads);
                group_size = 1;
                fragment(&nalu, mtu, &mut payloads);
                continue;
            }
            if !group.is_empty() && group_size + 2 + nalu.len() > mtu {
                flush(&mut group, &mut payloads);
                group_size = 1;
            }
            group_size += 2 + nalu.len();
            group.push(nalu);
        }
        flush(&mut group, &mut payloads);
        Ok(Packetized { payloads, keyframe })
    }
}

fn nal_type(nalu: &[u8]) -> u8 {
    nalu[0] & 0x1f
}

/// Sends `group` as a single NAL unit packet (one) or a STAP-A (several).
fn flush(group: &mut Vec<Bytes>, payloads: &mut Vec<Bytes>) {
    match group.len() {
        0 => {}
        1 => payloads.push(group.remove(0)),
        _ => {
            let f = group.iter().fold(0, |f, n| f | (n[0] & 0x80));
            let nri = group.iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
            let size = 1 + group.iter().map(|n| 2 + n.len()).sum::<usize>();
            let mut out = BytesMut::with_capacity(size);
            out.put_u8(f | nri | STAP_A);
            for n in group.drain(..) {
                out.put_u16(n.len() as u16); // n.len() <= mtu <= MAX_MTU < 65536
                out.put_slice(&n);
            }
            payloads.push(out.freeze());
        }
    }
}

/// FU-A: the NAL header goes into the FU indicator (F, NRI) and FU header (type).
fn fragment(nalu: &Bytes, mtu: usize, payloads: &mut Vec<Bytes>) {
    let indicator = (nalu[0] & 0xe0) | FU_A;
    let kind = nal_type(nalu);
    let body = &nalu[1..];
    let room = mtu - 2;
    let mut offset = 0;
    while offset < body.len() {
        let take = room.min(body.len() - offset);
        let mut header = kind;
        if offset == 0 {
            header |= 0x80; // S
        }
        if offset + take == body.len() {
            header |= 0x40; // E
        }
        let mut out = BytesMut::with_capacity(2 + take);
        out.put_u8(indicator);
        out.put_u8(header);
        out.put_slice(&body[offset..offset + take]);
        payloads.push(out.freeze());
        offset += take;
    }
}

/// Splits an Annex B access unit at its start codes (`00 00 01` or `00 00 00 01`); trailing
/// zero bytes of a NAL unit belong to the next start code and are dropped.
fn split_annex_b(au: &Bytes) -> Result<Vec<Bytes>, MediaError> {
    let starts = start_codes(au);
    match starts.first() {
        Some(&(at, _)) if au[..at].iter().all(|&b| b == 0) => {}
        _ => {
            return Err(MediaError::malformed(
                "H264",
                "not an Annex B access unit: NAL units must each be preceded by a start code \
                 (00 00 01 or 00 00 00 01); convert AVCC (length-prefixed) input first",
            ))
        }
    }
    let mut nalus = Vec::with_capacity(starts.len());
    for (i, &(at, len)) in starts.iter().enumerate() {
        let begin = at + len;
        let mut end = starts.get(i + 1).map_or(au.len(), |&(next, _)| next);
        while end > begin && au[end - 1] == 0 {
            end -= 1;
        }
        if end > begin {
            nalus.push(au.slice(begin..end));
        }
    }
    Ok(nalus)
}

/// Positions and lengths of the start codes (the leading zero of a 4-byte one included).
fn start_codes(data: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            if i > 0 && data[i - 1] == 0 {
                found.push((i - 1, 4));
            } else {
                found.push((i, 3));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    found
}
