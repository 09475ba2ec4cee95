//! TEMPORARY stand-in for the frame assembler (replaced by the real module at merge).
#![allow(missing_docs, dead_code)]
use bytes::Bytes;
use std::time::{Duration, Instant};

use crate::MediaError;

pub struct ReceivedPacket {
    pub sequence_number: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Bytes,
}
pub struct AssembledFrame {
    pub data: Bytes,
    pub rtp_timestamp: u32,
    pub extended_timestamp: u64,
    pub keyframe: bool,
    pub spatial_layer: Option<u8>,
    pub temporal_layer: Option<u8>,
    pub gap_before: bool,
    pub first_sequence: u16,
    pub packets: u16,
}
#[derive(Clone)]
pub struct AssemblerOptions {
    pub max_wait: Duration,
    pub max_packets: usize,
}
impl Default for AssemblerOptions {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_millis(200),
            max_packets: 2048,
        }
    }
}
#[derive(Debug, Clone, Default)]
pub struct AssemblerStats {
    pub frames: u64,
    pub frames_dropped: u64,
    pub packets_lost: u64,
    pub duplicates: u64,
    pub late: u64,
    pub keyframe_requests: u64,
}
pub struct FrameAssembler {
    out: std::collections::VecDeque<AssembledFrame>,
}
impl FrameAssembler {
    pub fn new(_mime_type: &str, _options: AssemblerOptions) -> Result<Self, MediaError> {
        Ok(Self {
            out: Default::default(),
        })
    }
    pub fn push(&mut self, _now: Instant, p: ReceivedPacket) {
        self.out.push_back(AssembledFrame {
            data: p.payload,
            rtp_timestamp: p.timestamp,
            extended_timestamp: p.timestamp as u64,
            keyframe: true,
            spatial_layer: None,
            temporal_layer: None,
            gap_before: false,
            first_sequence: p.sequence_number,
            packets: 1,
        });
    }
    pub fn poll_frame(&mut self) -> Option<AssembledFrame> {
        self.out.pop_front()
    }
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    pub fn handle_timeout(&mut self, _now: Instant) {}
    pub fn take_keyframe_request(&mut self) -> bool {
        false
    }
    pub fn stats(&self) -> AssemblerStats {
        AssemblerStats::default()
    }
}
