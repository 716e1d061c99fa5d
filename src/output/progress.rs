//! Progress on stderr: a bar on a terminal, plain periodic lines otherwise, nothing when
//! hidden (`--quiet`, `--verbose`, `COGNITO_SYNC_NO_PROGRESS`).
#![allow(clippy::print_stderr)]

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::settings::Settings;

/// One progress display for one long phase.
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    last_line: Option<(Instant, String)>,
}

/// Plain lines are printed when the message changes, but at most this often.
const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

impl Progress {
    /// A progress display for a phase of `total` steps (`None`: unknown, a spinner).
    pub fn new(settings: &Settings, total: Option<u64>, message: &str) -> Self {
        if !settings.progress {
            return Progress { bar: None, plain: false, last_line: None };
        }
        if !settings.stderr_is_terminal {
            eprintln!("{message}");
            return Progress { bar: None, plain: true, last_line: Some((Instant::now(), message.to_owned())) };
        }
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {wide_msg} [{bar:30}] {pos}/{len} {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(ProgressStyle::with_template("{spinner} {wide_msg} {elapsed}").expect("valid template")),
        };
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar), plain: false, last_line: None }
    }

    /// Updates position and message; plain output prints a line when the message changed
    /// and the last line is old enough.
    pub fn update(&mut self, position: u64, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(message.to_owned());
        } else if self.plain {
            let due = match &self.last_line {
                Some((at, last)) => last != message && at.elapsed() >= PLAIN_INTERVAL,
                None => true,
            };
            if due {
                eprintln!("{message}");
                self.last_line = Some((Instant::now(), message.to_owned()));
            }
        }
    }

    /// Removes the bar; results are printed after this.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
