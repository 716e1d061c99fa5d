//! The one integration-test binary: the CLI surface, and end-to-end runs against the
//! local emulator (started once per run by `common::emulator`).

mod apply;
mod apply_states;
mod choices;
mod common;
mod completions;
mod emulator_smoke;
mod export;
mod groups;
mod hashes;
mod hostile;
mod jobs;
mod pace;
mod plan;
mod policies;
mod readme;
mod role;
mod validate;
