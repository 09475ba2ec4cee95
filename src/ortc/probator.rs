//! The RTP probator: a fake consumer mediasoup uses to probe bandwidth, received on a
//! fixed mid, SSRC and payload type.

use crate::error::{OrtcError, Result};
use crate::types::{RtcpParameters, RtpEncodingParameters, RtpParameters};

/// The mid (and CNAME) of the probator consumer.
pub const RTP_PROBATOR_MID: &str = "probator";
/// The SSRC mediasoup sends probation packets on.
pub const RTP_PROBATOR_SSRC: u32 = 1234;
/// The payload type of the probator's codec.
pub const RTP_PROBATOR_CODEC_PAYLOAD_TYPE: u8 = 127;

/// The RTP parameters of the probator consumer, after the (validated) RTP parameters of a
/// video consumer: its first codec on payload type 127, its header extensions, SSRC 1234,
/// mid and CNAME `probator`. A `TypeError` when the video parameters have no codec.
pub fn generate_probator_rtp_parameters(
    video_rtp_parameters: &RtpParameters,
) -> Result<RtpParameters> {
    let mut codec = video_rtp_parameters
        .codecs
        .first()
        .cloned()
        .ok_or_else(|| OrtcError::type_error("missing params.codecs[0]"))?;
    codec.payload_type = RTP_PROBATOR_CODEC_PAYLOAD_TYPE;
    Ok(RtpParameters {
        mid: Some(RTP_PROBATOR_MID.into()),
        codecs: vec![codec],
        header_extensions: video_rtp_parameters.header_extensions.clone(),
        encodings: vec![RtpEncodingParameters {
            ssrc: Some(RTP_PROBATOR_SSRC),
            ..Default::default()
        }],
        rtcp: RtcpParameters {
            cname: Some(RTP_PROBATOR_MID.into()),
            ..Default::default()
        },
    })
}
