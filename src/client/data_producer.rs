//! DataProducer: one negotiated data channel a send transport sends on, with the server's id.

use msc_ortc::SctpStreamParameters;

use crate::data_channel::DataChannel;

/// mediasoup-client's DataProducer: sends on its channel (see [`DataChannel`]).
pub struct DataProducer {
    id: String,
    sctp_stream_parameters: SctpStreamParameters,
    label: String,
    protocol: String,
    channel: DataChannel,
}

impl DataProducer {
    pub(crate) fn new(
        id: String,
        sctp_stream_parameters: SctpStreamParameters,
        label: String,
        protocol: String,
        channel: DataChannel,
    ) -> Self {
        DataProducer {
            id,
            sctp_stream_parameters,
            label,
            protocol,
            channel,
        }
    }

    /// The server DataProducer's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The stream and its reliability, as the server was given them.
    pub fn sctp_stream_parameters(&self) -> &SctpStreamParameters {
        &self.sctp_stream_parameters
    }

    /// The channel's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The channel's subprotocol.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The channel: send, state, buffered amount, events, close.
    pub fn channel(&self) -> &DataChannel {
        &self.channel
    }
}
