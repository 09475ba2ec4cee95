//! #[napi] file player: thin glue over msc_media::FilePlayer (lib/FileTrack.js is its JS face).

use msc_media::{FilePlayer, FilePlayerOptions};
use napi_derive::napi;

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;

use super::errors::{promise, Code};
use super::track::NativeTrack;

#[napi]
pub struct NativeFilePlayer {
    inner: FilePlayer,
}

/// Opens a file (IVF, Ogg/Opus, H.264 Annex B) and starts the task that plays it once its
/// track is attached to a producer. Rejects with the file name and byte offset when the file
/// cannot be played.
#[napi(ts_return_type = "Promise<NativeFilePlayer>")]
pub fn open_file_player(
    env: &Env,
    path: String,
    looped: bool,
    frame_rate: Option<f64>,
) -> napi::Result<PromiseRaw<'_, NativeFilePlayer>, Code> {
    let options = FilePlayerOptions { looped, frame_rate };
    let opening = async move {
        let (player, task) = tokio::task::spawn_blocking(move || FilePlayer::open(path, options))
            .await
            .map_err(|e| msc_client::Error::other(format!("cannot open the file: {e}")))??;
        tokio::spawn(task);
        Ok(player)
    };
    promise(env, opening, |_, player| {
        Ok(NativeFilePlayer { inner: player })
    })
}

#[napi]
impl NativeFilePlayer {
    /// The track the file plays into (a new JS wrapper of the same track at each call).
    #[napi]
    pub fn track(&self) -> NativeTrack {
        NativeTrack::from_inner(self.inner.track())
    }

    #[napi(getter)]
    pub fn path(&self) -> String {
        self.inner.path().display().to_string()
    }

    #[napi(getter)]
    pub fn codec(&self) -> String {
        self.inner.info().mime_type.to_string()
    }

    /// The profile the file declares (VP9 `profile-id`, AV1 `profile`, H.264
    /// `profile-level-id` and `packetization-mode`), as codec parameters.
    #[napi(getter)]
    pub fn codec_parameters(&self) -> serde_json::Value {
        serde_json::Value::Object(self.inner.info().parameters.clone())
    }

    #[napi(getter)]
    pub fn format(&self) -> String {
        self.inner.info().format.as_str().to_string()
    }

    #[napi(getter)]
    pub fn width(&self) -> u32 {
        self.inner.info().width
    }

    #[napi(getter)]
    pub fn height(&self) -> u32 {
        self.inner.info().height
    }

    #[napi(getter)]
    pub fn channels(&self) -> u32 {
        u32::from(self.inner.info().channels)
    }

    #[napi(getter)]
    pub fn frame_rate(&self) -> Option<f64> {
        self.inner.info().frame_rate
    }

    #[napi(getter)]
    pub fn looped(&self) -> bool {
        self.inner.options().looped
    }

    /// Why the track ended early (malformed or truncated file, read error), if it did.
    #[napi(getter)]
    pub fn error(&self) -> Option<String> {
        self.inner.error().map(|e| e.to_string())
    }
}
