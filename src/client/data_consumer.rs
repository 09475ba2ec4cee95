//! DataConsumer: one negotiated data channel a receive transport receives on, for a server
//! DataConsumer.

use msc_ortc::SctpStreamParameters;

use crate::data_channel::DataChannel;

/// mediasoup-client's DataConsumer: its messages come through its channel's listener (see
/// [`DataChannel::set_listener`]).
pub struct DataConsumer {
    id: String,
    data_producer_id: String,
    sctp_stream_parameters: SctpStreamParameters,
    label: String,
    protocol: String,
    channel: DataChannel,
}

impl DataConsumer {
    pub(crate) fn new(
        id: String,
        data_producer_id: String,
        sctp_stream_parameters: SctpStreamParameters,
        label: String,
        protocol: String,
        channel: DataChannel,
    ) -> Self {
        DataConsumer {
            id,
            data_producer_id,
            sctp_stream_parameters,
            label,
            protocol,
            channel,
        }
    }

    /// The server DataConsumer's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The server DataProducer's id.
    pub fn data_producer_id(&self) -> &str {
        &self.data_producer_id
    }

    /// The stream and its reliability, as the server chose them.
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

    /// The channel: state, events, close.
    pub fn channel(&self) -> &DataChannel {
        &self.channel
    }
}
