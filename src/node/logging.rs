//! Logs: silent unless MSC_LOG is set (a `tracing` filter such as `debug` or
//! `msc_handler=trace`); then they go to stderr.

use napi_derive::module_init;

#[module_init]
fn init_logging() {
    if let Ok(filter) = std::env::var("MSC_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
}
