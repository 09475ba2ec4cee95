//! Scalability modes (W3C webrtc-svc): `L1T3`, `L3T3_KEY`, `S3T3`...

use serde::{Deserialize, Serialize};

/// The layers a scalability mode describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalabilityMode {
    /// Number of spatial layers (the `L` or `S` number; JSON `spatialLayers`), 1 by default.
    pub spatial_layers: u8,
    /// Number of temporal layers (the `T` number; JSON `temporalLayers`), 1 by default.
    pub temporal_layers: u8,
    /// K-SVC (`_KEY` suffix): spatial layers depend on each other only at key frames.
    pub ksvc: bool,
}

impl Default for ScalabilityMode {
    fn default() -> Self {
        ScalabilityMode {
            spatial_layers: 1,
            temporal_layers: 1,
            ksvc: false,
        }
    }
}

/// Reads a 1-2 digit layer count that does not start with 0, then `rest`.
fn layer_count(text: &str) -> Option<(u8, &str)> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut value = first - b'0';
    let mut used = 1;
    if let Some(second) = bytes.get(1).filter(|b| b.is_ascii_digit()) {
        value = value * 10 + (second - b'0');
        used = 2;
    }
    Some((value, &text[used..]))
}

/// Parses a scalability mode: `L` or `S`, spatial layers (1-99), `T`, temporal layers
/// (1-99), optionally `_KEY`. Anything after that is ignored, as in mediasoup. Anything
/// else (or no mode) is one spatial and one temporal layer.
pub fn parse_scalability_mode(mode: Option<&str>) -> ScalabilityMode {
    parse(mode.unwrap_or("")).unwrap_or_default()
}

fn parse(mode: &str) -> Option<ScalabilityMode> {
    let rest = mode.strip_prefix('L').or_else(|| mode.strip_prefix('S'))?;
    let (spatial_layers, rest) = layer_count(rest)?;
    let rest = rest.strip_prefix('T')?;
    let (temporal_layers, rest) = layer_count(rest)?;
    Some(ScalabilityMode {
        spatial_layers,
        temporal_layers,
        ksvc: rest.starts_with("_KEY"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(mode: &str) -> (u8, u8, bool) {
        let m = parse_scalability_mode(Some(mode));
        (m.spatial_layers, m.temporal_layers, m.ksvc)
    }

    #[test]
    fn parses_valid_modes() {
        assert_eq!(parsed("L1T3"), (1, 3, false));
        assert_eq!(parsed("L30T3"), (30, 3, false));
        assert_eq!(parsed("L1T6"), (1, 6, false));
        assert_eq!(parsed("L3T3_KEY"), (3, 3, true));
        assert_eq!(parsed("L2T2_KEY_SHIFT"), (2, 2, true));
        assert_eq!(parsed("S3T3"), (3, 3, false));
        assert_eq!(parsed("S2T1h"), (2, 1, false));
        assert_eq!(parsed("L99T99"), (99, 99, false));
        assert_eq!(parsed("L1T35_KEY"), (1, 35, true));
    }

    #[test]
    fn defaults_on_invalid_input() {
        for mode in [
            "", "1T3", "L0T3", "L1T0", "LT3", "L1", "l1t3", "X1T3", "L123T3", " L1T3", "L1T_KEY",
        ] {
            assert_eq!(parsed(mode), (1, 1, false), "{mode:?}");
        }
        assert_eq!(parse_scalability_mode(None), ScalabilityMode::default());
    }

    #[test]
    fn serializes_like_mediasoup() {
        let json = serde_json::to_value(parse_scalability_mode(Some("L3T3_KEY"))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "spatialLayers": 3, "temporalLayers": 3, "ksvc": true })
        );
    }
}
