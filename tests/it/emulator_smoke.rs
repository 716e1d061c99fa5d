//! The emulator answers the real AWS SDK through the binary's configuration path.

use crate::common::emulator::emulator;

#[test]
fn the_emulator_starts_and_counts_requests_per_access_key() {
    let emulator = emulator();
    let account = emulator.account("smoke");
    let pool = emulator.seed_pool(&account, "smoke", 3, &[]);
    assert!(pool.starts_with(account.region), "{pool}");
    assert_eq!(emulator.counts(&account).get("CreateUserPool"), Some(&1));
}
