//! The proptest configuration of this crate's fuzz tests: `default` cases per property unless
//! `PROPTEST_CASES` says otherwise (see docs/testing.md), and no failure files written into the
//! source tree. Shared by the in-crate fuzz modules and, through `#[path]`, the test binaries
//! in `tests/`.

use proptest::test_runner::Config as ProptestConfig;

pub fn config(default: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default;
    }
    config
}
