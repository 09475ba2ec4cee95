//! Recognizing a failed DTLS handshake from the datagrams of a connection.
//!
//! webrtc-rs' core never moves its DTLS transport to `failed`: a handshake error (the server's
//! certificate matching no fingerprint of the answer, a fatal alert from the server) is logged
//! and dropped inside the core, and the connection state stays `connecting` for good. Both
//! sides of such a failure announce it with a fatal alert, which during the handshake travels
//! in a plaintext (epoch 0) record: this module finds one in a datagram, so the driver can
//! report the failure when the alert passes, in or out.

/// `ContentType.alert` (RFC 5246 §6.2.1).
const ALERT: u8 = 21;
/// `AlertLevel.fatal` (RFC 5246 §7.2).
const FATAL: u8 = 2;
/// type (1), version (2), epoch (2), sequence number (6), length (2) (RFC 6347 §4.1).
const RECORD_HEADER: usize = 13;

/// Whether `datagram` holds a DTLS record carrying a fatal alert in plaintext (epoch 0, i.e.
/// sent before the handshake completed). Records are walked by their length fields; anything
/// that is not DTLS (RFC 7983: first byte outside 20..=63), and a truncated record, ends the
/// walk. Encrypted alerts (epoch > 0) are not readable and are not reported.
pub(crate) fn has_plaintext_fatal_alert(datagram: &[u8]) -> bool {
    let mut rest = datagram;
    while rest.len() >= RECORD_HEADER && (20..=63).contains(&rest[0]) {
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        let length = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        let Some(fragment) = rest.get(RECORD_HEADER..RECORD_HEADER + length) else {
            return false;
        };
        if rest[0] == ALERT && epoch == 0 && fragment.first() == Some(&FATAL) {
            return true;
        }
        rest = &rest[RECORD_HEADER + length..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DTLS 1.2 record of `content_type` in `epoch` carrying `fragment`.
    fn record(content_type: u8, epoch: u16, fragment: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 0xfe, 0xfd];
        r.extend_from_slice(&epoch.to_be_bytes());
        r.extend_from_slice(&[0, 0, 0, 0, 0, 7]);
        r.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
        r.extend_from_slice(fragment);
        r
    }

    #[test]
    fn a_plaintext_fatal_alert_is_found() {
        // bad_certificate (42), as webrtc-rs sends when no fingerprint matches
        assert!(has_plaintext_fatal_alert(&record(ALERT, 0, &[FATAL, 42])));
        // behind a handshake record of the same datagram
        let mut datagram = record(22, 0, &[1; 40]);
        datagram.extend(record(ALERT, 0, &[FATAL, 40]));
        assert!(has_plaintext_fatal_alert(&datagram));
    }

    #[test]
    fn other_records_are_not_failures() {
        // a warning (close_notify), handshake records, application data
        assert!(!has_plaintext_fatal_alert(&record(ALERT, 0, &[1, 0])));
        assert!(!has_plaintext_fatal_alert(&record(
            22,
            0,
            &[FATAL, 42, 0, 0]
        )));
        assert!(!has_plaintext_fatal_alert(&record(23, 1, &[FATAL, 42])));
        // an alert after the handshake is encrypted: its first byte is not the level
        assert!(!has_plaintext_fatal_alert(&record(ALERT, 1, &[FATAL; 26])));
        // an empty alert record
        assert!(!has_plaintext_fatal_alert(&record(ALERT, 0, &[])));
    }

    #[test]
    fn what_is_not_dtls_or_is_cut_short_is_not_a_failure() {
        // STUN (first byte 0/1), RTP (128..=191)
        let mut stun = record(ALERT, 0, &[FATAL, 42]);
        stun[0] = 0;
        assert!(!has_plaintext_fatal_alert(&stun));
        let mut rtp = record(ALERT, 0, &[FATAL, 42]);
        rtp[0] = 0x80;
        assert!(!has_plaintext_fatal_alert(&rtp));
        // a length beyond the datagram, a header cut short, nothing
        let mut long = record(ALERT, 0, &[FATAL, 42]);
        long[12] = 9;
        assert!(!has_plaintext_fatal_alert(&long));
        assert!(!has_plaintext_fatal_alert(
            &record(ALERT, 0, &[FATAL, 42])[..12]
        ));
        assert!(!has_plaintext_fatal_alert(&[]));
        // a fatal alert after a truncated record is not reached
        let mut datagram = record(22, 0, &[1; 4]);
        datagram[12] = 200;
        datagram.extend(record(ALERT, 0, &[FATAL, 42]));
        assert!(!has_plaintext_fatal_alert(&datagram));
    }
}
