//! Tracks and sources that a Node program feeds: frame writer, packetizers, pacing.
